"""Realistic generated mails for ``bench/email_ingest.py``: Vietnamese and English,
multipart with attachments, replies with In-Reply-To and References; all from a seed."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

SUPPORT = "support@helpdesk.example.vn"
VI_SUBJECTS = (
    "Không đăng nhập được vào tài khoản", "Yêu cầu xuất hoá đơn VAT", "Bị trừ tiền hai lần",
    "Ứng dụng bị thoát khi mở báo cáo", "Đơn hàng giao chậm", "Lỗi đồng bộ dữ liệu kho",
    "Đổi địa chỉ giao hàng", "Hỏi về chính sách bảo hành",
)  # fmt: skip
EN_SUBJECTS = (
    "Password reset link has expired", "Webhook deliveries failing", "Need a copy of my invoice",
    "Export to CSV breaks on \\n in notes", "Cannot attach files larger than 5 MB",
    "Wrong time zone in reports",
)  # fmt: skip
VI_LINES = (
    "Tôi không đăng nhập được vào tài khoản từ sáng nay.",
    "Đơn hàng #{n} giao chậm ba ngày rồi, nhờ anh chị kiểm tra giúp.",
    "Tệp hoá đơn ở C:\\Users\\khach\\Documents\\hoa-don-{n}.pdf không mở được.",
    "Đường dẫn \\\\may-chu\\chia-se\\bao-cao báo lỗi \\n khi tải lên.",
    "Ứng dụng bị thoát khi mở báo cáo tháng Mười Hai.",
    "Tôi đã thử xoá bộ nhớ đệm và cài lại nhưng vẫn lỗi.",
    "Số điện thoại liên hệ: 0912 345 678 (gọi giờ hành chính).",
    "From hôm qua đến giờ hệ thống vẫn chậm.",
    "Mã lỗi:\tE-{n}\t(ghi trong nhật ký)   ",
)
EN_LINES = (
    "I cannot sign in since this morning.",
    "The log is in C:\\Program Files\\Acme\\logs\\app-{n}.log, attached.",
    "The regex \\d+\\.\\d+ no longer matches amounts like 1.234,50.",
    "From now on please send invoices to accounts@example.com.",
    "Order #{n} was charged twice — see the statement below.",
    "Steps: open Reports, pick March, click Export; the app closes.",
    "  (indented) path: \\\\fileserver\\share\\q1\\n",
)
NAMES = ("Nguyễn Văn An", "Trần Thị Bích Ngọc", "Lê Hoàng Phúc", "Phạm Thuỳ Dương", "John Smith")
TXT_NAMES = ("nhật ký lỗi.txt", "log.txt", "ghi chú — đơn hàng.txt", "steps to reproduce.txt")
BIN_TYPES = (
    ("image/png", "ảnh chụp màn hình.png"), ("application/pdf", "hoá đơn.pdf"),
    ("application/octet-stream", "dump.bin"), ("application/zip", "logs.zip"),
)  # fmt: skip


@dataclass
class Mail:
    """One generated mail and what must come out of it."""

    message_id: str
    root: str
    text: str
    attachments: list[tuple[str, bytes]]
    raw: bytes = b""
    parent: str | None = None
    subject: str = ""
    sender_name: str = ""


def _body(rng: random.Random, n: int, vietnamese: bool) -> str:
    lines = VI_LINES if vietnamese else EN_LINES
    greeting = "Xin chào bộ phận hỗ trợ," if vietnamese else "Hello support,"
    closing = "Trân trọng cảm ơn!" if vietnamese else "Thanks,"
    picked = [rng.choice(lines).format(n=n) for _ in range(rng.randint(2, 6))]
    return "\n".join([greeting, "", *picked, "", closing, rng.choice(NAMES), ""])


def _attachments(rng: random.Random, n: int) -> list[tuple[str, str, bytes]]:
    files: list[tuple[str, str, bytes]] = []
    kind = rng.choice(("txt", "bin", "both"))
    if kind in ("txt", "both"):
        newline = rng.choice((b"\r\n", b"\n"))
        rows = [
            rng.choice(VI_LINES + EN_LINES).format(n=n).encode() for _ in range(rng.randint(3, 80))
        ]
        files.append(("text/plain", rng.choice(TXT_NAMES), newline.join(rows) + newline))
    if kind in ("bin", "both"):
        ctype, name = rng.choice(BIN_TYPES)
        files.append((ctype, name, rng.randbytes(rng.randint(200, 16_000))))
    return files


def build(
    rng: random.Random, n: int, sender: tuple[str, str], parent: Mail | None, refs: list[str],
    irt_only: bool,
) -> Mail:  # fmt: skip
    """Mail number ``n``, a reply to ``parent`` when given."""
    vietnamese = rng.random() < 0.6
    message_id = f"<{rng.getrandbits(64):016x}.{n}@mail.example.vn>"
    text = _body(rng, n, vietnamese)
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = formataddr(sender)
    msg["To"] = SUPPORT
    msg["Date"] = format_datetime(datetime(2024, 3, 1, tzinfo=UTC) + timedelta(minutes=7 * n))
    msg["Message-ID"] = message_id
    if parent is None:
        msg["Subject"] = f"{rng.choice(VI_SUBJECTS if vietnamese else EN_SUBJECTS)} #{n}"
    else:
        msg["Subject"] = "Re: " + parent.subject
        msg["In-Reply-To"] = parent.message_id
        if not irt_only:
            msg["References"] = " ".join([*refs, parent.message_id])
        quoted = "".join(f"> {line}\n" for line in parent.text.splitlines())
        text += f"\nVào ngày {n}, {parent.sender_name} đã viết:\n{quoted}"
    msg.set_content(text, charset="utf-8", cte=rng.choice(("8bit", "quoted-printable", "base64")))
    if rng.random() < 0.15:
        msg.add_alternative(f"<p>{text[:200]}</p>", subtype="html", charset="utf-8")
    files = _attachments(rng, n) if rng.random() < 0.4 else []
    for ctype, name, data in files:
        maintype, subtype = ctype.split("/")
        cte = rng.choice(("base64", "quoted-printable")) if maintype == "text" else "base64"
        params = {"charset": "utf-8"} if maintype == "text" else None
        msg.add_attachment(data, maintype, subtype, filename=name, cte=cte, params=params)
    return Mail(
        message_id=message_id,
        root=parent.root if parent else message_id,
        text=text,
        attachments=[(name, data) for _, name, data in files],
        raw=msg.as_bytes(),
        parent=parent.message_id if parent else None,
        subject=str(msg["Subject"]),
        sender_name=sender[0],
    )


def generate(total: int, replies: int, seed: int, irt_only: float) -> list[Mail]:
    """``total`` mails, ``replies`` of them replies to earlier ones; in generation order."""
    rng = random.Random(seed)
    random.seed(seed)  # the email package draws MIME boundaries from the global generator
    customers = [(rng.choice(NAMES), f"khach{i}@example.vn") for i in range(max(total // 2, 1))]
    reply_at = set(rng.sample(range(1, total), min(replies, total - 1)))
    mails: list[Mail] = []
    senders: dict[str, tuple[str, str]] = {}
    references: dict[str, list[str]] = {}
    for n in range(total):
        parent = rng.choice(mails) if n in reply_at else None
        if parent is None:
            sender = rng.choice(customers)
        else:  # the same customer, sometimes a colleague in copy
            sender = senders[parent.root] if rng.random() < 0.8 else rng.choice(customers)
        refs = references.get(parent.message_id, []) if parent else []
        mail = build(rng, n, sender, parent, refs, irt_only=rng.random() < irt_only)
        senders.setdefault(mail.root, sender)
        references[mail.message_id] = [*refs, parent.message_id] if parent else []
        mails.append(mail)
    return mails
