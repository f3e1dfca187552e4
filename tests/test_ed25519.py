"""Ed25519 as chain.py writes it from RFC 8032: the RFC's vectors, and agreement with OpenSSL."""

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, settings
from hypothesis import strategies as st

from consent.chain import ed25519_public_key, ed25519_sign, ed25519_verify

# RFC 8032 section 7.1: (name, secret key, public key, message, signature), hex.
TEST_1024_MESSAGE = (
    "08b8b2b733424243760fe426a4b54908632110a66c2f6591eabd3345e3e4eb98fa6e264bf09efe12ee50f8f54e9f77b1e355f6c505"
    "44e23fb1433ddf73be84d879de7c0046dc4996d9e773f4bc9efe5738829adb26c81b37c93a1b270b20329d658675fc6ea534e0810a"
    "4432826bf58c941efb65d57a338bbd2e26640f89ffbc1a858efcb8550ee3a5e1998bd177e93a7363c344fe6b199ee5d02e82d522c4"
    "feba15452f80288a821a579116ec6dad2b3b310da903401aa62100ab5d1a36553e06203b33890cc9b832f79ef80560ccb9a39ce767"
    "967ed628c6ad573cb116dbefefd75499da96bd68a8a97b928a8bbc103b6621fcde2beca1231d206be6cd9ec7aff6f6c94fcd7204ed"
    "3455c68c83f4a41da4af2b74ef5c53f1d8ac70bdcb7ed185ce81bd84359d44254d95629e9855a94a7c1958d1f8ada5d0532ed8a5aa"
    "3fb2d17ba70eb6248e594e1a2297acbbb39d502f1a8c6eb6f1ce22b3de1a1f40cc24554119a831a9aad6079cad88425de6bde1a918"
    "7ebb6092cf67bf2b13fd65f27088d78b7e883c8759d2c4f5c65adb7553878ad575f9fad878e80a0c9ba63bcbcc2732e69485bbc9c9"
    "0bfbd62481d9089beccf80cfe2df16a2cf65bd92dd597b0707e0917af48bbb75fed413d238f5555a7a569d80c3414a8d0859dc65a4"
    "6128bab27af87a71314f318c782b23ebfe808b82b0ce26401d2e22f04d83d1255dc51addd3b75a2b1ae0784504df543af8969be3ea"
    "7082ff7fc9888c144da2af58429ec96031dbcad3dad9af0dcbaaaf268cb8fcffead94f3c7ca495e056a9b47acdb751fb73e666c6c6"
    "55ade8297297d07ad1ba5e43f1bca32301651339e22904cc8c42f58c30c04aafdb038dda0847dd988dcda6f3bfd15c4b4c4525004a"
    "a06eeff8ca61783aacec57fb3d1f92b0fe2fd1a85f6724517b65e614ad6808d6f6ee34dff7310fdc82aebfd904b01e1dc54b292709"
    "4b2db68d6f903b68401adebf5a7e08d78ff4ef5d63653a65040cf9bfd4aca7984a74d37145986780fc0b16ac451649de6188a7dbdf"
    "191f64b5fc5e2ab47b57f7f7276cd419c17a3ca8e1b939ae49e488acba6b965610b5480109c8b17b80e1b7b750dfc7598d5d5011fd"
    "2dcc5600a32ef5b52a1ecc820e308aa342721aac0943bf6686b64b2579376504ccc493d97e6aed3fb0f9cd71a43dd497f01f17c0e2"
    "cb3797aa2a2f256656168e6c496afc5fb93246f6b1116398a346f1a641f3b041e989f7914f90cc2c7fff357876e506b50d334ba77c"
    "225bc307ba537152f3f1610e4eafe595f6d9d90d11faa933a15ef1369546868a7f3a45a96768d40fd9d03412c091c6315cf4fde7cb"
    "68606937380db2eaaa707b4c4185c32eddcdd306705e4dc1ffc872eeee475a64dfac86aba41c0618983f8741c5ef68d3a101e8a3b8"
    "cac60c905c15fc910840b94c00a0b9d0"
)
RFC8032 = [
    (
        "TEST 1",
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "TEST 2",
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "TEST 3",
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
    (
        "TEST 1024",
        "f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5",
        "278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e",
        TEST_1024_MESSAGE,
        "0aab4c900501b3e24d7cdf4663326a3a87df5e4843b2cbdb67cbf6e460fec350aa5371b1508f9f4528ecea23c436d94b5e8fcd4f681e30a6ac00a9704a188a03",
    ),
    (
        "TEST SHA(abc)",
        "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
        "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
        "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
        "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704",
    ),
]
# The base point's order; S at or above it is a malleated signature (RFC 8032 section 5.1.7).
L = 2**252 + 27742317777372353535851937790883648493


def vector(name):
    _, secret, public, message, signature = next(v for v in RFC8032 if v[0] == name)
    return bytes.fromhex(secret), bytes.fromhex(public), bytes.fromhex(message), bytes.fromhex(signature)


@pytest.mark.parametrize("name", [v[0] for v in RFC8032])
def test_rfc8032_vectors(name):
    secret, public, message, signature = vector(name)
    assert ed25519_public_key(secret) == public
    assert ed25519_sign(secret, message) == signature
    assert ed25519_verify(public, message, signature)
    # The transcription itself, checked by an independent implementation.
    assert Ed25519PrivateKey.from_private_bytes(secret).sign(message) == signature


def test_the_1024_vector_is_the_rfcs_1023_byte_message():
    assert len(bytes.fromhex(TEST_1024_MESSAGE)) == 1023


@pytest.mark.parametrize("name", [v[0] for v in RFC8032])
def test_a_changed_message_key_or_signature_fails(name):
    secret, public, message, signature = vector(name)
    assert not ed25519_verify(public, message + b"x", signature)
    assert not ed25519_verify(ed25519_public_key(bytes(32)), message, signature)
    for position in (0, 31, 32, 63):
        changed = bytearray(signature)
        changed[position] ^= 1
        assert not ed25519_verify(public, message, bytes(changed))


def test_a_malleated_signature_is_refused():
    secret, public, message, signature = vector("TEST 1")
    s = int.from_bytes(signature[32:], "little")
    # S + L satisfies the group equation; RFC 8032 requires rejecting S >= L.
    malleated = signature[:32] + (s + L).to_bytes(32, "little")
    assert not ed25519_verify(public, message, malleated)


def test_malformed_inputs_are_refused_not_raised():
    _, public, message, signature = vector("TEST 2")
    assert not ed25519_verify(public[:31], message, signature)
    assert not ed25519_verify(public, message, signature[:63])
    assert not ed25519_verify(public, message, "not bytes")
    # y = p is not a canonical encoding; neither is a point with no x.
    assert not ed25519_verify((2**255 - 19).to_bytes(32, "little"), message, signature)
    assert not ed25519_verify((2).to_bytes(32, "little"), message, signature)
    with pytest.raises(ValueError):
        ed25519_sign(bytes(31), message)


@settings(max_examples=30, deadline=None)
@given(seed=st.binary(min_size=32, max_size=32), message=st.binary(max_size=300))
def test_agrees_with_openssl(seed, message):
    theirs = Ed25519PrivateKey.from_private_bytes(seed)
    public = theirs.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert ed25519_public_key(seed) == public
    signature = ed25519_sign(seed, message)
    # Deterministic: the laptop's pure signer and the server's OpenSSL give the same bytes.
    assert signature == theirs.sign(message)
    Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    assert ed25519_verify(public, message, signature)
    assert not ed25519_verify(public, message + b"\x00", signature)


def test_non_canonical_point_encodings_do_not_decode():
    from consent.chain import _point_decode

    # RFC 8032 section 5.1.3 step 1: y >= p fails, even though y = p would reduce to the valid y = 0.
    assert _point_decode((0).to_bytes(32, "little")) is not None
    assert _point_decode((2**255 - 19).to_bytes(32, "little")) is None
    # Step 4: x = 0 with the sign bit set fails (y = 1 is the neutral point, x = 0).
    assert _point_decode((1).to_bytes(32, "little")) is not None
    assert _point_decode((1 | 1 << 255).to_bytes(32, "little")) is None
