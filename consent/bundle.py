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

# Deflating and checksumming each short line on its own costs more than the line; this batches them.
_WRITE_BUFFER = 1 << 20

README = """\
監査記録の確かめ方は VERIFY.md に書いてあります（前半が日本語、後半が英語です）。
How to verify the audit chain is explained in VERIFY.md (Japanese first, then English).
Windows: py verify_chain.py events.jsonl --checkpoints-file checkpoints.txt / macOS, Linux: python3 ...
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

## 必要なもの

Python 3.10 以降だけです。
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

    py verify_chain.py events.jsonl --checkpoints-file checkpoints.txt

macOS / Linux：

    python3 verify_chain.py events.jsonl --checkpoints-file checkpoints.txt

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

## 職員の受付票を確かめる

受付票には、監査記録上の仮名（`p-` で始まる文字列）、通し番号、監査記録のハッシュ値が載っています。

1. 受付票の値をチェックポイントとして検証します（120 とハッシュ値は、受付票の値に置き換えます）。

       py verify_chain.py events.jsonl --checkpoint 120:受付票のハッシュ値

   「OK」なら、通し番号120の記録は受付票のとおりのハッシュ値で、監査記録全体とも矛盾しません。
   ハッシュ値が違えば `checkpoint-mismatch`、その番号の記録がなければ `truncated` と表示されます。

2. その記録の行を探します。受付票のハッシュ値を含む行を、次のコマンドで表示します。

   - Windows：`findstr ハッシュ値 events.jsonl`
   - macOS / Linux：`grep ハッシュ値 events.jsonl`

   2行表示されることがあります。次の記録の `prev_hash`（1つ前のハッシュ値）にも同じ値が入るためです。
   `"entry_hash":"ハッシュ値"` となっていて、行の最後が `"seq":120}` の行が、その職員の記録です。

3. その行の `body`（記録の中身）を確かめます。
   - `subject`（対象者）が、受付票の仮名であること。
   - `kind` が `decision.recorded`（選択の記録）であること。
   - `payload` の `choice` が、受付票の選択と同じであること。
     `opt_in` は「一体化する」、`opt_out` は「一体化しない」、`undecided` は「まだ決めていない」です。

   `body` は行の中に文字列として入っています。
   そのため、`\"subject\":\"p-…\"` のように、`"` の前に `\` が付いて見えます。

## 個人情報について

監査記録に入っている人の情報は、仮名だけです。
氏名、メールアドレス、職員番号やマイナンバーなどの番号は入っていません。
仮名は、サーバー側で管理する鍵を使って、職員番号から作った値です。
鍵がなければ、仮名から本人をたどることはできません。
ただし、受付票を見れば、その職員の仮名は分かります。
キットは組合の内部資料として、大切に扱ってください。

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

## What you need

Only Python 3.10 or newer.
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

    py verify_chain.py events.jsonl --checkpoints-file checkpoints.txt

macOS / Linux:

    python3 verify_chain.py events.jsonl --checkpoints-file checkpoints.txt

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

## Checking an employee's receipt

A receipt shows the employee's pseudonym on the audit chain (starting with `p-`),
a `seq` and an `entry_hash`.

1. Verify with the receipt's values as a checkpoint
   (put the receipt's number and hash in place of 120 and HASH):

       py verify_chain.py events.jsonl --checkpoint 120:HASH

   "OK" means event 120 has exactly the receipt's hash and fits into the whole chain.
   A different hash gives `checkpoint-mismatch`; a chain that stops before that number gives `truncated`.

2. Find that event's line: show the lines that contain the receipt's hash.

   - Windows: `findstr HASH events.jsonl`
   - macOS / Linux: `grep HASH events.jsonl`

   You may see two lines, because the next event's `prev_hash` (the hash before it) holds the same value.
   The employee's event is the line with `"entry_hash":"HASH"` that ends with `"seq":120}`.

3. Check that line's `body` (the event itself):
   - `subject` is the pseudonym on the receipt;
   - `kind` is `decision.recorded`;
   - `choice` in the `payload` is the choice on the receipt
     (`opt_in`: combine them; `opt_out`: do not combine them; `undecided`: not decided yet).

   The body sits inside the line as a string,
   so its quotes show with a backslash before them, like `\"subject\":\"p-…\"`.

## Personal data

The only thing the audit chain holds about people is pseudonyms.
It holds no names, no email addresses and no numbers such as employee numbers or My Number.
A pseudonym is computed from the employee number with a key kept on the server side;
without that key, nobody can trace a pseudonym back to a person.
Anyone who sees an employee's receipt does learn that employee's pseudonym, though,
so treat this kit as an internal union document.
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


def write_bundle(out, *, export_lines, checkpoints, head_seq, head_hash, created_at) -> None:
    """Write the verification kit as a ZIP to the binary file object ``out``.

    ``export_lines`` (lines of ``chain.export_line``, without newlines) are
    streamed into ``events.jsonl``, so memory does not grow with the chain.
    An empty chain has ``head_seq`` 0, and its head is left out.
    """
    checkpoints_file = _checkpoints_text(
        checkpoints, head_seq=head_seq, head_hash=head_hash, created_at=created_at
    )
    moment = time.localtime()[:6]
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(_member(README_NAME, moment), README)
        archive.writestr(_member(GUIDE_NAME, moment), VERIFY_GUIDE)
        archive.writestr(_member(VERIFIER_NAME, moment), Path(chain.__file__).read_bytes())
        archive.writestr(_member(CHECKPOINTS_NAME, moment), checkpoints_file)
        # ZIP64 from the start: an entry that passes 2 GiB while streaming cannot be switched to it later.
        member = archive.open(_member(EVENTS_NAME, moment), "w", force_zip64=True)
        with io.BufferedWriter(member, _WRITE_BUFFER) as events:
            for line in export_lines:
                events.write(line.encode("utf-8"))
                events.write(b"\n")
