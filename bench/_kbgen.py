"""Realistic generated knowledge-base articles for ``bench/kb_search.py``.

Vietnamese and English help articles in Markdown (headings, numbered steps,
notes), built from topics × products × platforms so that titles vary and
common words ("khách hàng", "đơn hàng", "order") are as frequent as in a real
help centre. Most Vietnamese articles have an English translation; about one
in ten articles is a draft. All from a seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

# (Vietnamese, English) pairs.
TOPICS = (
    ("Đổi mật khẩu tài khoản", "Change your account password"),
    ("Theo dõi trạng thái đơn hàng", "Track the status of an order"),
    ("Chính sách đổi trả và hoàn tiền", "Returns and refunds policy"),
    ("Xuất hóa đơn VAT cho doanh nghiệp", "Issue a VAT invoice for a company"),
    ("Thanh toán bằng thẻ tín dụng", "Pay by credit card"),
    ("Thay đổi địa chỉ giao hàng", "Change the delivery address"),
    ("Kích hoạt bảo hành sản phẩm", "Activate the product warranty"),
    ("Đăng nhập bằng mã OTP", "Sign in with a one-time code"),
    ("Cài đặt ứng dụng trên điện thoại", "Install the mobile app"),
    ("Nâng cấp gói dịch vụ", "Upgrade your plan"),
    ("Hủy đơn hàng đã đặt", "Cancel an order"),
    ("Liên hệ bộ phận hỗ trợ khách hàng", "Contact customer support"),
    ("Xuất báo cáo doanh thu ra tệp CSV", "Export revenue reports to CSV"),
    ("Kết nối máy in hóa đơn", "Connect a receipt printer"),
    ("Đồng bộ dữ liệu kho hàng", "Sync inventory data"),
    ("Cấu hình email thông báo", "Set up notification emails"),
    ("Quản lý thẻ thành viên", "Manage loyalty cards"),
    ("Áp dụng mã giảm giá", "Apply a discount code"),
    ("Xử lý lỗi không nhận được mã xác nhận", "Fix a missing verification code"),
    ("Phân quyền cho nhân viên cửa hàng", "Give store staff the right permissions"),
    ("Gộp hai tài khoản khách hàng", "Merge two customer accounts"),
    ("Đặt lịch giao hàng tiết kiệm", "Schedule economy delivery"),
    ("Sao lưu và khôi phục dữ liệu", "Back up and restore data"),
    ("Tra cứu lịch sử giao dịch", "Look up transaction history"),
)
PRODUCTS = (
    ("ứng dụng Sổ Bán Hàng", "the Sales Book app"),
    ("máy POS A90", "the A90 POS terminal"),
    ("gói Doanh Nghiệp", "the Business plan"),
    ("ví điện tử", "the e-wallet"),
    ("cửa hàng trực tuyến", "the online store"),
    ("trang quản trị", "the admin dashboard"),
    ("phần mềm kế toán", "the accounting software"),
    ("tổng đài hỗ trợ", "the support hotline"),
)
PLATFORMS = (
    ("trên Android", "on Android"),
    ("trên iPhone", "on iPhone"),
    ("trên máy tính", "on desktop"),
    ("trên trình duyệt", "in the browser"),
    ("tại cửa hàng", "in store"),
)
VI_STEPS = (
    "Mở {product} và đăng nhập bằng tài khoản của bạn.",
    "Chọn mục **Tài khoản** ở góc trên bên phải.",
    "Bấm **Đơn hàng của tôi** để xem danh sách đơn hàng.",
    "Nhập mã đơn hàng, ví dụ `DH-{n}`, rồi bấm **Tìm kiếm**.",
    "Kiểm tra lại thông tin thanh toán và địa chỉ giao hàng.",
    "Bấm **Lưu thay đổi** và chờ thông báo xác nhận.",
    "Nhập mã OTP gồm 6 chữ số được gửi qua tin nhắn.",
    "Chọn phương thức thanh toán: thẻ tín dụng, chuyển khoản hoặc ví điện tử.",
    "Tải tệp báo cáo về máy và mở bằng Excel hoặc Google Trang tính.",
    "Vào **Cài đặt** → **Thông báo** và bật email xác nhận đơn hàng.",
    "Chụp ảnh hóa đơn và gửi kèm yêu cầu hỗ trợ.",
    "Khởi động lại {product} nếu màn hình không cập nhật.",
)
EN_STEPS = (
    "Open {product} and sign in to your account.",
    "Choose **Account** in the top right corner.",
    "Click **My orders** to see your order list.",
    "Enter the order number, for example `DH-{n}`, then click **Search**.",
    "Check the payment details and the delivery address again.",
    "Click **Save changes** and wait for the confirmation.",
    "Enter the 6-digit one-time code sent by text message.",
    "Choose a payment method: credit card, bank transfer or e-wallet.",
    "Download the report and open it in Excel or Google Sheets.",
    "Go to **Settings** → **Notifications** and turn on order confirmation emails.",
    "Take a photo of the receipt and attach it to your support request.",
    "Restart {product} if the screen does not refresh.",
)
VI_NOTES = (
    "Khách hàng có thể đổi trả sản phẩm trong vòng {days} ngày kể từ ngày nhận hàng.",
    "Hoàn tiền được xử lý trong {days} ngày làm việc sau khi kho nhận lại hàng.",
    "Nếu đơn hàng đã được giao cho đơn vị vận chuyển, bạn không thể hủy trực tuyến.",
    "Phí giao hàng tiết kiệm là 15.000đ cho đơn dưới 300.000đ.",
    "Bộ phận hỗ trợ khách hàng làm việc từ 8 giờ đến 21 giờ, kể cả thứ Bảy.",
    "Hóa đơn VAT chỉ xuất được trong tháng phát sinh giao dịch.",
    "Mã giảm giá không áp dụng cùng chương trình khuyến mãi khác.",
    "Dữ liệu được sao lưu tự động mỗi đêm và giữ trong {days} ngày.",
    "Nếu không nhận được mã xác nhận, hãy kiểm tra thư mục thư rác.",
    "Mã lỗi E-{n} nghĩa là phiên đăng nhập đã hết hạn; hãy đăng nhập lại.",
)
EN_NOTES = (
    "Customers can return a product within {days} days of delivery.",
    "Refunds are processed within {days} working days after the warehouse receives the item.",
    "Once the order is with the carrier it can no longer be cancelled online.",
    "Economy delivery costs 15,000 VND for orders under 300,000 VND.",
    "Customer support is open from 8am to 9pm, Saturdays included.",
    "A VAT invoice can only be issued in the month of the transaction.",
    "Discount codes cannot be combined with other promotions.",
    "Data is backed up every night and kept for {days} days.",
    "If the verification code does not arrive, check the spam folder.",
    "Error code E-{n} means the session expired; sign in again.",
)
CATEGORIES = (
    (("Tài khoản", "Account"), (("Đăng nhập", "Sign-in"), ("Bảo mật", "Security"))),
    (("Đơn hàng", "Orders"), (("Giao hàng", "Delivery"), ("Đổi trả", "Returns"))),
    (("Thanh toán", "Payments"), (("Hóa đơn", "Invoices"), ("Hoàn tiền", "Refunds"))),
    (("Sản phẩm", "Products"), (("Bảo hành", "Warranty"), ("Cài đặt", "Setup"))),
    (("Báo cáo", "Reports"), (("Doanh thu", "Revenue"), ("Kho hàng", "Inventory"))),
    (("Cửa hàng", "Stores"), (("Nhân viên", "Staff"), ("Thiết bị", "Devices"))),
)
TAGS = ("tai-khoan", "don-hang", "thanh-toan", "hoa-don", "giao-hang", "bao-hanh", "app", "pos")


@dataclass
class Category:
    """One category row: ``parent`` is an index into the list, or None."""

    name_vi: str
    name_en: str
    parent: int | None


@dataclass
class Article:
    """One generated article; ``group`` numbers its translation group (from 1)."""

    group: int
    locale: str
    title: str
    body: str
    status: str
    category: int  # index into the categories (from 0)
    tags: list[str] = field(default_factory=list)


def categories() -> list[Category]:
    """The category tree, each parent before its children."""
    rows: list[Category] = []
    for (vi, en), children in CATEGORIES:
        parent = len(rows)
        rows.append(Category(vi, en, None))
        rows.extend(Category(cvi, cen, parent) for cvi, cen in children)
    return rows


def _body(rng: random.Random, vietnamese: bool, product: str, n: int) -> str:
    steps, notes = (VI_STEPS, VI_NOTES) if vietnamese else (EN_STEPS, EN_NOTES)
    heads = (
        ("Trước khi bắt đầu", "Các bước thực hiện", "Lưu ý")
        if vietnamese
        else ("Before you start", "Steps", "Notes")
    )
    days = rng.choice((7, 14, 30))
    fill = {"product": product, "n": n, "days": days}
    intro = " ".join(rng.choice(notes).format(**fill) for _ in range(rng.randint(2, 4)))
    picked = rng.sample(steps, rng.randint(4, 8))
    lines = [intro, "", f"## {heads[0]}", "", rng.choice(notes).format(**fill), ""]
    lines += [f"## {heads[1]}", ""]
    lines += [f"{i}. {step.format(**fill)}" for i, step in enumerate(picked, start=1)]
    lines += ["", f"## {heads[2]}", ""]
    lines += [f"- {rng.choice(notes).format(**fill)}" for _ in range(rng.randint(2, 5))]
    return "\n".join(lines) + "\n"


def generate(count: int, seed: int = 11) -> list[Article]:
    """``count`` articles: about 60% Vietnamese, most of them translated to English."""
    rng = random.Random(seed)
    articles: list[Article] = []
    group = 0
    leaves = [i for i, c in enumerate(categories()) if c.parent is not None]
    while len(articles) < count:
        group += 1
        topic, product, platform = rng.choice(TOPICS), rng.choice(PRODUCTS), rng.choice(PLATFORMS)
        n = rng.randint(1000, 99999)
        category = rng.choice(leaves)
        tags = sorted(rng.sample(TAGS, rng.randint(0, 3)))
        roll = rng.random()
        locales = ("vi", "en") if roll < 0.67 else ("vi",) if roll < 0.87 else ("en",)
        for locale in locales[: count - len(articles)]:
            vietnamese = locale == "vi"
            pick = 0 if vietnamese else 1
            title = f"{topic[pick]} {product[pick]} {platform[pick]}"
            if rng.random() < 0.2:
                title += " (cập nhật 2026)" if vietnamese else " (2026 update)"
            status = "draft" if rng.random() < 0.1 else "published"
            body = _body(rng, vietnamese, product[pick], n)
            articles.append(Article(group, locale, title, body, status, category, tags))
    return articles
