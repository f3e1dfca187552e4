"""consent/cache.py: the Redis cache keeps its clients (no server needed to build one)."""

from consent.cache import RedisCache


def test_the_redis_cache_keeps_one_client_per_connection_pool():
    clients = RedisCache("redis://127.0.0.1:6379/15", {})._cache
    assert clients.get_client("a") is clients.get_client("b", write=True)


def test_each_server_has_its_own_client():
    clients = RedisCache("redis://127.0.0.1:6379/15,redis://127.0.0.1:6380/15", {})._cache
    assert clients.get_client(write=True) is not clients.get_client()
    assert clients.get_client().connection_pool.connection_kwargs["port"] == 6380
