# ruff: noqa: E501 - the guide's commands are copied whole from the page, so they stay on one line
"""The union's verification kit: an export of the audit chain and all it takes to check it offline.

One ZIP holds the export, the checkpoints to hold it to, the verifier itself
(a byte-for-byte copy of ``consent/chain.py``) and a guide in Japanese and
English. Checking it needs Python 3 and nothing else, so this module stays
free of Django: the kit can be built wherever the export lines come from.
"""

import io
import time
import zipfile
from pathlib import Path

from consent import chain

EVENTS_NAME = "events.jsonl"
CHECKPOINTS_NAME = "checkpoints.txt"
VERIFIER_NAME = "verify_chain.py"
GUIDE_NAME = "VERIFY.md"
README_NAME = "README.txt"
CHECKPOINT_NOTE_NAME = "checkpoint.txt"
LOG_KEY_NAME = "log.vkey"
TEXTS_NAME = "texts.jsonl"

# Deflating and checksumming each short line on its own costs more than the line; this batches them.
_WRITE_BUFFER = 1 << 20

README = """\
監査記録の確かめ方は VERIFY.md に書いてあります（前半が日本語、後半が英語です）。
How to verify the audit chain is explained in VERIFY.md (Japanese first, then English).
py verify_chain.py events.jsonl --checkpoints-file checkpoints.txt --checkpoint-note checkpoint.txt --key log.vkey --texts texts.jsonl (macOS, Linux: python3)
"""

VERIFY_GUIDE = r"""# 監査記録の検証キット（同意台帳）

English follows the Japanese.

## このキットについて

このZIPファイルは、同意台帳の監査記録を、組合のパソコンで確かめるためのキットです。
台帳のサーバーを信用しなくても、記録が書き換えられていないかを自分で確かめられます。

監査記録は、選択の記録などの出来事を、1件ずつ通し番号（seq）の順に並べたものです。
各記録には、ハッシュ値（entry_hash）が付いています。
ハッシュ値は、データの「指紋」のような64桁の英数字です。
記録の中身と、1つ前の記録のハッシュ値から計算します。
そのため、どこか1か所でも書き換え・削除・挿入・入れ替えがあると、そこでつながりが切れます。
検証プログラムは、その切れ目を見つけます。

キットの中身は次のとおりです。

- `events.jsonl`：監査記録の全件です（1行に1件）。
- `checkpoints.txt`：照らし合わせに使うチェックポイントです（`通し番号:ハッシュ値`）。
- `verify_chain.py`：検証プログラムです。台帳のシステムが使っているものと同じファイルです。
- `VERIFY.md`：この説明書です。
- `README.txt`：案内です。
- `checkpoint.txt`：サーバーが署名した最新のチェックポイント（記録の件数とマークル木の根）と、組合の連署です。
- `log.vkey`：サーバーの署名を確かめる公開鍵です（`/log/key` と同じもの）。
- `texts.jsonl`：任意であることの説明（全版）と、人事課のお知らせの本文です。

## 必要なもの

Python 3.8 以降だけです。
インターネット接続も、追加のインストールも要りません。
検証プログラムは Python の標準機能だけを使い、ネットワークには接続しません。
`verify_chain.py` はテキストファイルなので、中身を読んで確かめることもできます。

Python が入っているかは、次のコマンドで確かめられます。

- Windows：`py --version`
- macOS / Linux：`python3 --version`

## 検証の手順

1. ZIPファイルを展開します（Windows では、右クリックして「すべて展開」を選びます）。
2. 展開したフォルダーで、コマンドを入力する画面を開きます。
   - Windows：フォルダーを開き、上のアドレスバーに `cmd` と入力して Enter キーを押します。
   - macOS / Linux：ターミナルで `cd ` （cd と空白）と入力します。
     続けてフォルダーをターミナルの画面にドラッグし、Enter キーを押します。
3. 次のコマンドを入力し、Enter キーを押します。

Windows：

    py verify_chain.py events.jsonl --checkpoints-file checkpoints.txt --checkpoint-note checkpoint.txt --key log.vkey --texts texts.jsonl

macOS / Linux：

    python3 verify_chain.py events.jsonl --checkpoints-file checkpoints.txt --checkpoint-note checkpoint.txt --key log.vkey --texts texts.jsonl

Windows で `py` が見つからないと表示された場合は、`py` の代わりに `python` と入力してください。
記録が100万件の場合、検証には10秒から1分ほどかかります。
展開したファイルは、100万件でおよそ700MBになります。

## 結果の読み方

### 問題がなかった場合

    OK: 1234 events, head seq 1234 entry_hash 3f5a…（64桁）

- `OK`：すべての記録が正しくつながり、指定したチェックポイントとも一致しました。
- `1234 events`：確かめた記録の件数です。
- `head seq 1234`：最後の記録の通し番号です。
- `entry_hash 3f5a…`：最後の記録のハッシュ値です。

続く行は、ほかの確認の結果です。
`checkpoint`（サーバーの署名と、記録全体のマークル木の根が一致したこと）、
`texts`（説明文とお知らせの本文が、記録に残ったハッシュ値と一致したこと）などです。

最後の記録の「通し番号:ハッシュ値」は、次回の検証で使うチェックポイントになります。
このキットの `checkpoints.txt` の最後の行にも、同じ値が書いてあります。
ただし「OK」だけでは、記録全体が作り直されていないことまでは分かりません。
後の「チェックポイントが大切な理由」を読んでください。

### 問題が見つかった場合

    FAILED at seq 57: edited: the body does not match its leaf_hash

`FAILED at seq 57` は、通し番号57の記録で最初の問題が見つかったという意味です。
検証は最初の問題で止まります。それより後の記録は確かめていません。
コロン（:）の後の最初の語が、問題の種類です。

- `edited`（書き換え）：記録の中身が書き換えられています。
  中身がハッシュ値と合わないか、中身に書かれた通し番号が、置かれている位置と違います。
- `gap`（抜け）：記録が抜けています。途中の記録が削除された可能性があります。
- `reordered`（順番の入れ替え）：記録の順番が入れ替わっているか、同じ通し番号の記録が重なっています。
- `broken-link`（つながりの切れ目）：1つ前の記録とのつながりが切れています。
  記録が差し替えられたか、間に別の記録が差し込まれた可能性があります。
- `checkpoint-mismatch`（チェックポイントとの不一致）：
  チェックポイントの通し番号の記録が、保存しておいたものとは別のハッシュ値になっています。
  その番号までの記録が作り直された可能性があります。
- `truncated`（途中で終わっている）：チェックポイントの通し番号より前で、記録が終わっています。
  後ろの記録が削除された可能性があります。

このほか、次の表示が出ることがあります。

- `FAILED: line 12 is not valid JSON …` や `FAILED: line 12 is not UTF-8 text`：
  ファイルの形式が壊れています。ダウンロードが途中で切れた場合や、ファイルを編集して保存した場合にも起こります。
  キットをもう一度ダウンロードして確かめてください。
- `error: …`：コマンドの書き方が違うか、ファイルを開けません。
  ファイル名と、チェックポイントの書き方（`通し番号:ハッシュ値`）を確かめてください。

「FAILED」と表示されたら、表示された文章全体と、このZIPファイルを、そのまま保管してください。
問題があったことの証拠になります。
なお、`events.jsonl` を表計算ソフトやエディターで開いて保存しないでください。
1文字でも変わると、検証に失敗します。

## チェックポイントが大切な理由

検証プログラムが確かめるのは、記録どうしのつながりです。
しかし、サーバーを操作できる人が記録を書き換え、それ以降のハッシュ値をすべて計算し直すこともできます。
すると、つじつまの合った別の監査記録ができてしまいます。
これだけを検証しても、結果は「OK」になります。

これを見破るのが、チェックポイントです。
チェックポイントは、ある時点の記録の「通し番号:ハッシュ値」の組です。
記録を作り直すと、その通し番号のハッシュ値は必ず変わります。
以前に保存したチェックポイントと照らし合わせれば、作り直しが分かります。
このとき、`checkpoint-mismatch` または `truncated` と表示されます。

### 手元に保管するもの

- これまでのキットの `checkpoints.txt`。
  キットを受け取るたびに、組合のパソコンなど、サーバーの外に保管してください。
- 職員の受付票。受付票には、通し番号（seq）と監査記録のハッシュ値（entry_hash）が載っています。

このキットの `checkpoints.txt` は、サーバーが作ったファイルです。
サーバーが不正に操作されていれば、このファイルも信用できません。
そのため、組合が自分で保管している値を、必ず一緒に指定してください。

### 指定のしかた

`--checkpoint 通し番号:ハッシュ値` で、チェックポイントを1つ指定します。何回でも繰り返せます。

    py verify_chain.py events.jsonl --checkpoint 120:3f5a…（64桁） --checkpoint 4521:9bc1…（64桁）

`--checkpoints-file ファイル名` で、チェックポイントを並べたファイルを指定します。
ファイルには、1行に1つ `通し番号:ハッシュ値` を書きます。
`#` で始まる行は説明書きとして読み飛ばされます。
`--checkpoints-file` は、1回の検証で1つしか使えません。2つ書くと、最後の1つだけが使われます。

おすすめは、組合用のチェックポイントのファイル（例：`union-checkpoints.txt`）を1つ作ることです。
検証が「OK」になるたびに、表示された通し番号とハッシュ値を `通し番号:ハッシュ値` の形で書き足します。
受付票の値も書き足せます。メモ帳で作れます（文字コードは UTF-8 のままで保存してください）。
そして、キットのファイルとは別に、もう一度検証します。

    py verify_chain.py events.jsonl --checkpoints-file union-checkpoints.txt

ファイルが別のフォルダーにある場合は、ファイル名の代わりに、ファイルをコマンドの画面にドラッグしてください。
ファイルの場所が入力されます。

## 職員の受付票で、その人の選択を確かめる（コミットメント）

監査記録（第2版）には、職員の名前も仮名も選択も、そのままでは入っていません。
職員についての記録の `subject` は `c:` で始まる64桁の値（コミットメント）です。
これは、記録ごとに新しい「ソルト」（ランダムな値）と、本人だけが知る「秘密」（仮名と選択など）から計算した値です。
同じ人の記録でも毎回違う値になるので、組合も含めて、誰の記録か・何を選んだかは分かりません。

ソルトと秘密は、本人の受付票（JSON）と履歴にだけ載っています。
職員が受付票を見せれば、その記録が本人のものであること、何を選んだかを証明できます。

1. 職員から受付票の JSON（`receipt-….json`）と証明（`receipt-….tlog-proof`）を受け取り、このフォルダーに置きます。
2. 次のコマンドを入力します。

       py verify_chain.py events.jsonl --checkpoint-note checkpoint.txt --key log.vkey --opening receipt-….json --proof receipt-….tlog-proof

   「OK」なら、受付票の記録は監査記録の中にあり、ソルトと秘密がその記録のコミットメントと一致します。
   受付票の `secret` の `choice` が、その職員の選択です
   （`opt_in` は「一体化する」、`opt_out` は「一体化しない」、`undecided` は「まだ決めていない」）。

## 組合が立会人として署名する（連署）

サーバーは、監査記録の状態（チェックポイント）に署名して公開します。
組合は、前回連署したときの記録がそのまま含まれていることを組合のパソコンで確かめてから、連署（cosign）します。
こうしておくと、後から記録を作り直しても必ず見つかります。

最初に1回だけ、鍵を作ります。表示された1行（公開鍵）を、組合の画面「立会人」で登録します。
`witness.key`（秘密鍵）は組合のパソコンだけに保管し、誰にも渡さないでください。

    py verify_chain.py keygen union.example.jp/witness

`union.example.jp/witness` は、組合を表す名前に置き換えてかまいません（空白と `+` は使えません）。
秘密鍵は `witness.key` に保存され、登録する1行が画面に表示されます。

毎回の手順：

1. 組合の画面「立会人」で「現在のチェックポイントをダウンロード」を押します（`checkpoint-N.txt`）。
2. 2回目からは「前回の連署からの整合性の証明」もダウンロードします（`consistency-M-N.txt`）。
3. 次のコマンドを入力します（1回目は `--previous` と `--consistency-proof` を付けません）。

       py verify_chain.py cosign --key witness.key --checkpoint checkpoint-N.txt --log-key log.vkey --previous cosigned-M.txt --consistency-proof consistency-M-N.txt --output cosigned-N.txt

   N は今回の、M は前回連署したチェックポイントの件数です（ファイル名に入っています）。
   記録が作り直されていれば、`REFUSED` と表示して連署せずに終わります（終了コード1）。その画面を保管してください。
4. 表示された1行（`— ` で始まる連署）を、組合の画面に貼り付けてアップロードします。
   `cosigned-N.txt` は次回の `--previous` に使うので、保管してください。

## 説明文とお知らせの本文

`texts.jsonl` には、任意であることの説明（全版）と人事課のお知らせの本文がすべて入っています。
`--texts texts.jsonl` を付けて検証すると、各本文のハッシュ値を計算し直し、記録に残った値と照らし合わせます。
職員が確認したときに説明が何と書いてあったかを、組合が自分で証明できます。

## 個人情報について

監査記録に入っている人の情報は、役割のある人（人事課・組合・管理者）の識別子（`staff:` で始まる値）だけです。
職員本人の出来事には、名前・仮名・選択・所属は入っていません。時刻も「時」までです。
受付票を見せてもらったときだけ、その人の記録と選択が分かります。キットは組合の内部資料として、大切に扱ってください。

---

# Audit chain verification kit (consent ledger)

## What this kit is

This ZIP file lets the union check the consent ledger's audit chain on its own computer,
without having to trust the ledger's server.

The audit chain lists every event (a decision recorded, an explanation read, and so on)
one after another, numbered by `seq`.
Each event carries a hash (`entry_hash`): a 64-character fingerprint
computed from the event itself and from the hash of the event before it.
So if any event is changed, deleted, inserted or moved, the chain breaks at that point,
and the verifier finds it.

The kit contains:

- `events.jsonl`: every event of the audit chain, one per line.
- `checkpoints.txt`: checkpoints to hold the chain to (`SEQ:HASH`).
- `verify_chain.py`: the verifier; the very same file the ledger itself uses.
- `VERIFY.md`: this guide.
- `README.txt`: a pointer to this guide.
- `checkpoint.txt`: the latest checkpoint the server signed (the number of events and the Merkle tree's root), with the union's cosignatures.
- `log.vkey`: the server's public key that checks its signature (the same as at `/log/key`).
- `texts.jsonl`: every version of the explanation that the choice is voluntary, and every HR notice, in full.

## What you need

Only Python 3.8 or newer.
No internet connection and nothing to install.
The verifier uses only Python's standard library and never connects to a network.
`verify_chain.py` is a text file, so you can read what it does.

To see whether Python is installed:

- Windows: `py --version`
- macOS / Linux: `python3 --version`

## How to verify

1. Unzip the file (on Windows: right-click, then "Extract All").
2. Open a command window in the unzipped folder.
   - Windows: open the folder, type `cmd` in the address bar at the top and press Enter.
   - macOS / Linux: in Terminal, type `cd ` (cd and a space),
     drag the folder onto the Terminal window and press Enter.
3. Type the following command and press Enter.

Windows:

    py verify_chain.py events.jsonl --checkpoints-file checkpoints.txt --checkpoint-note checkpoint.txt --key log.vkey --texts texts.jsonl

macOS / Linux:

    python3 verify_chain.py events.jsonl --checkpoints-file checkpoints.txt --checkpoint-note checkpoint.txt --key log.vkey --texts texts.jsonl

If Windows says `py` is not found, type `python` instead of `py`.
For a million events, verification takes from about ten seconds to a minute,
and the unzipped files take about 700 MB.

## Reading the result

### No problem found

    OK: 1234 events, head seq 1234 entry_hash 3f5a… (64 characters)

- `OK`: every event links correctly to the one before, and every checkpoint you gave matches.
- `1234 events`: how many events were checked.
- `head seq 1234`: the number of the last event.
- `entry_hash 3f5a…`: the hash of the last event.

The lines after it report the other checks:
`checkpoint` (the server's signature holds and the Merkle root of the whole export matches),
`texts` (each explanation and notice matches the hash the log recorded), and so on.

The last event's `SEQ:HASH` is your checkpoint for next time.
The last line of this kit's `checkpoints.txt` holds the same value.
"OK" on its own does not show that the whole chain was not rebuilt;
see "Why checkpoints matter" below.

### A problem found

    FAILED at seq 57: edited: the body does not match its leaf_hash

`FAILED at seq 57` means the first problem is at event number 57.
The verifier stops at the first problem and does not check the events after it.
The first word after the colon names the kind of problem:

- `edited`: the event's content was changed. It no longer matches its hash,
  or the number written inside it is not the place where it is stored.
- `gap`: an event is missing, perhaps deleted.
- `reordered`: events are out of order, or the same number appears twice.
- `broken-link`: the event does not follow on from the one before it.
  An event may have been replaced, or another one slipped in.
- `checkpoint-mismatch`: the event at a checkpoint's number has a different hash from the one saved.
  The chain up to that number may have been rebuilt.
- `truncated`: the chain ends before a checkpoint's number.
  Events at the end may have been deleted.

You may also see:

- `FAILED: line 12 is not valid JSON …` or `FAILED: line 12 is not UTF-8 text`:
  the file is damaged. An interrupted download or editing and saving the file can also cause this.
  Download the kit again and check it again.
- `error: …`: the command is mistyped or a file cannot be opened.
  Check the file names and that each checkpoint is written as `SEQ:HASH`.

If you see "FAILED", keep the whole message and this ZIP file exactly as they are:
they are the evidence of the problem.
Do not open `events.jsonl` in a spreadsheet or an editor and save it:
a single changed character makes verification fail.

## Why checkpoints matter

The verifier checks that the events link together.
But someone in control of the server could change an event and recompute every hash after it.
That gives a different chain that is still consistent with itself,
and checking it alone would say "OK".

Checkpoints catch this.
A checkpoint is the `SEQ:HASH` of one event at one moment.
Rebuilding the chain always changes the hash at that number,
so checking against a checkpoint saved earlier reveals the rebuild
(as `checkpoint-mismatch` or `truncated`).

### What to keep

- The `checkpoints.txt` of every earlier kit.
  Keep each one off the server, for example on the union's computer.
- Employees' receipts. Each receipt shows a `seq` and an `entry_hash`.

This kit's `checkpoints.txt` was written by the server.
If the server was tampered with, this file cannot be trusted either.
So always pass the values the union keeps itself as well.

### How to pass them

`--checkpoint SEQ:HASH` gives one checkpoint; repeat it as often as you like.

    py verify_chain.py events.jsonl --checkpoint 120:3f5a… --checkpoint 4521:9bc1…

`--checkpoints-file FILE` gives a file of checkpoints, one `SEQ:HASH` per line.
Lines starting with `#` are comments and are skipped.
Only one `--checkpoints-file` is used per run: if you give two, only the last one counts.

We suggest keeping one checkpoints file of the union's own (for example `union-checkpoints.txt`).
Each time verification says "OK", add the `SEQ:HASH` it printed as a new line.
Add receipts' values too. Notepad will do (keep the encoding UTF-8 when saving).
Then verify a second time against that file:

    py verify_chain.py events.jsonl --checkpoints-file union-checkpoints.txt

If the file is in another folder, drag the file onto the command window instead of typing its name;
its location is filled in.

## Proving an employee's decision with their receipt (commitments)

Version 2 of the audit log holds no employee's name, pseudonym or choice in clear.
The `subject` of an event about an employee is a commitment: `c:` and 64 hex digits,
the SHA-256 of a fresh random salt followed by a secret (the employee's pseudonym and their hidden fields).
It is new for every event, so nobody, the union included, can tell whose event it is or what was chosen.

Only the employee's own receipt (JSON) and history hold the salt and the secret.
By showing the receipt, an employee proves the event is theirs and what they chose.

1. Put the employee's receipt (`receipt-….json`) and proof (`receipt-….tlog-proof`) in this folder.
2. Run:

       py verify_chain.py events.jsonl --checkpoint-note checkpoint.txt --key log.vkey --opening receipt-….json --proof receipt-….tlog-proof

   "OK" means the receipt's event is in the log and its salt and secret open the event's commitment.
   The `choice` in the receipt's `secret` is the employee's choice
   (`opt_in`: combine them; `opt_out`: do not combine them; `undecided`: not decided yet).

## Witnessing the log (cosigning)

The server signs and publishes the state of the log (a checkpoint).
The union cosigns a checkpoint only after its own computer has checked that the log still contains
what it cosigned last time, so a log rewritten later is always caught.

Once: make a key pair and register the printed line (the public key) on the union's Witness page.
Keep `witness.key` (the private key) on the union's computer only.

    py verify_chain.py keygen union.example.jp/witness

Each time:

1. On the Witness page, download the current checkpoint (`checkpoint-N.txt`).
2. From the second time on, also download the consistency proof from the last cosigned checkpoint (`consistency-M-N.txt`).
3. Run (the first time, leave out `--previous` and `--consistency-proof`):

       py verify_chain.py cosign --key witness.key --checkpoint checkpoint-N.txt --log-key log.vkey --previous cosigned-M.txt --consistency-proof consistency-M-N.txt --output cosigned-N.txt

   N is this checkpoint's size and M the size of the one you cosigned last (both are in the file names).
   If the log was rewritten, it prints `REFUSED` and does not cosign (exit code 1): keep what it printed.
4. Paste the printed line (starting with `— `) on the Witness page and upload it.
   Keep `cosigned-N.txt`: it is next time's `--previous`.

## The explanation and notice texts

`texts.jsonl` holds every version of the explanation that the choice is voluntary and every HR notice, in full.
Verifying with `--texts texts.jsonl` recomputes each text's hash and matches it with the log,
so the union can prove what the explanation said when someone acknowledged it.

## Personal data

The only identities in the log are those of people acting in a role (HR, union, administrator: values starting with `staff:`).
Events about employees carry no name, pseudonym, choice or office, and their time only to the hour.
Only a receipt an employee shows opens their events. Treat this kit as an internal union document.
"""


def _one_line(text, what):
    # A line break here would let a comment turn into a checkpoint line, or hide one.
    if "\n" in text or "\r" in text:
        raise ValueError(f"{what} must be a single line: {text!r}")
    return text


def _checkpoints_text(checkpoints, *, head_seq, head_hash, created_at):
    """The ``checkpoints.txt`` the verifier reads with ``--checkpoints-file``."""
    lines = [
        "# 同意台帳の監査記録のチェックポイント（通し番号:ハッシュ値、1行に1つ）。",
        "# Checkpoints of the consent ledger's audit chain (SEQ:HASH, one a line).",
        f"# 作成日時 / Created at: {_one_line(created_at, 'created_at')}",
        "#",
        "# python3 verify_chain.py events.jsonl --checkpoints-file checkpoints.txt",
    ]
    for seq, digest, saved_at in checkpoints:
        # Normalised and checked now, so a bad value fails here and not on the union's laptop.
        seq, digest = chain.parse_checkpoint(f"{seq}:{digest}")
        lines.append(f"# 保存日時 / Saved at: {_one_line(saved_at, 'saved_at')}")
        lines.append(f"{seq}:{digest}")
    if head_seq:
        head_seq, head_hash = chain.parse_checkpoint(f"{head_seq}:{head_hash}")
        lines.append("# このキットを作った時点の最後の記録です（次回のチェックポイント）。")
        lines.append("# The head of the chain when this kit was made (your checkpoint for next time).")
        lines.append(f"{head_seq}:{head_hash}")
    return "\n".join(lines) + "\n"


def _member(name, moment):
    # Spelled out because ZipFile.open() would date a streamed member 1980 and give it no permissions.
    info = zipfile.ZipInfo(name, date_time=moment)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


class _Pieces:
    """A file that only keeps what is written to it until it is taken: ZipFile writes to an
    unseekable file as a stream, so the bundle can be sent while it is being made."""

    def __init__(self):
        self._parts = []

    def write(self, data):
        self._parts.append(bytes(data))
        return len(data)

    def flush(self):
        pass

    def take(self):
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def bundle_pieces(
    *,
    export_lines,
    checkpoints,
    head_seq,
    head_hash,
    created_at,
    checkpoint_note="",
    log_key="",
    texts_lines=(),
):
    """The verification kit as a ZIP, yielded in pieces as it is written (about a
    megabyte each), for a streaming response: the first bytes leave at once and
    memory does not grow with the chain.

    ``export_lines`` (lines of ``chain.export_line``, without newlines) are
    streamed into ``events.jsonl``. An empty chain has ``head_seq`` 0, and its
    head is left out. ``checkpoint_note`` (the latest signed checkpoint with its
    cosignatures), ``log_key`` (the server's vkey) and ``texts_lines`` (the
    explanations and notices, one JSON object a line) are written beside it
    when given.
    """
    checkpoints_file = _checkpoints_text(
        checkpoints, head_seq=head_seq, head_hash=head_hash, created_at=created_at
    )
    moment = time.localtime()[:6]
    out = _Pieces()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(_member(README_NAME, moment), README)
        archive.writestr(_member(GUIDE_NAME, moment), VERIFY_GUIDE)
        archive.writestr(_member(VERIFIER_NAME, moment), Path(chain.__file__).read_bytes())
        archive.writestr(_member(CHECKPOINTS_NAME, moment), checkpoints_file)
        if checkpoint_note:
            archive.writestr(_member(CHECKPOINT_NOTE_NAME, moment), checkpoint_note)
        if log_key:
            archive.writestr(_member(LOG_KEY_NAME, moment), log_key.strip() + "\n")
        archive.writestr(_member(TEXTS_NAME, moment), "".join(line + "\n" for line in texts_lines))
        yield out.take()
        # ZIP64 from the start: an entry that passes 2 GiB while streaming cannot be switched to it later.
        member = archive.open(_member(EVENTS_NAME, moment), "w", force_zip64=True)
        with io.BufferedWriter(member, _WRITE_BUFFER) as events:
            for line in export_lines:
                events.write(line.encode("utf-8"))
                events.write(b"\n")
                if out._parts:
                    yield out.take()
    yield out.take()


def write_bundle(out, **bundle):
    """Write the bundle (``bundle_pieces``'s arguments) to the binary file object ``out``."""
    for piece in bundle_pieces(**bundle):
        out.write(piece)
