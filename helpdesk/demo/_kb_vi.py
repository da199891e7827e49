"""The demo's knowledge-base articles in Vietnamese (customer-facing: "Quý khách").

Each article answers what the demo's cases ask about (see
:mod:`helpdesk.demo._stories_vi`). Bodies are Markdown; ``key`` links an
article to its English translation in :mod:`helpdesk.demo._kb_en`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class ArticleSpec:
    """A demo article in Vietnamese; ``category`` is a key of the demo's categories."""

    key: str
    category: str
    title: str
    body: str
    tags: tuple[str, ...]
    published: bool = True


_RESET = """Nếu Quý khách quên mật khẩu, có thể tự đặt lại trong vài phút:

1. Mở trang đăng nhập và bấm **Quên mật khẩu?**
2. Nhập địa chỉ email dùng để đăng nhập rồi bấm **Gửi liên kết**.
3. Mở email "Đặt lại mật khẩu" và bấm vào liên kết. Liên kết có hiệu lực trong 30 phút và \
chỉ dùng được một lần.
4. Nhập mật khẩu mới (ít nhất 10 ký tự, có cả chữ và số) hai lần, rồi bấm **Lưu**.

## Không nhận được email?
- Kiểm tra thư mục **Thư rác** hoặc **Quảng cáo**.
- Chờ khoảng 5 phút rồi gửi lại; mỗi lần gửi, liên kết cũ sẽ hết hiệu lực.

## Liên kết báo "đã hết hạn" dù vừa bấm?
Một số hệ thống lọc thư của công ty tự mở liên kết để kiểm tra, làm liên kết bị dùng mất. \
Quý khách hãy sao chép liên kết và dán vào trình duyệt, hoặc liên hệ chúng tôi để nhận \
liên kết mới.
"""

_LOCKED = """Để bảo vệ tài khoản, hệ thống tạm khoá đăng nhập sau **5 lần nhập sai mật khẩu \
liên tiếp**. Khi đó màn hình báo "Sai email hoặc mật khẩu" kể cả khi Quý khách nhập đúng.

## Cách mở khoá
1. Chờ 15 phút: tài khoản tự mở khoá.
2. Hoặc đặt lại mật khẩu bằng **Quên mật khẩu?**: tài khoản được mở khoá ngay khi đổi \
mật khẩu thành công.
3. Nếu vẫn không đăng nhập được, Quý khách xoá bộ nhớ đệm (cache) của trình duyệt rồi \
thử lại.

## Vẫn không được?
Quý khách gửi yêu cầu hỗ trợ kèm email đăng nhập và ảnh chụp màn hình thông báo lỗi. \
Vì lý do bảo mật, chúng tôi chỉ mở khoá thủ công khi yêu cầu được gửi từ chính địa chỉ \
email của tài khoản hoặc từ quản trị viên của công ty.
"""

_USERS = """Quản trị viên của công ty có thể mời thêm người dùng và giới hạn quyền của họ.

1. Vào **Cài đặt > Người dùng** và bấm **Thêm người dùng**.
2. Nhập email của người được mời (mỗi dòng một địa chỉ nếu mời nhiều người).
3. Chọn vai trò:
   - **Quản trị**: toàn quyền, kể cả thanh toán và người dùng;
   - **Nhân viên**: tạo và sửa đơn hàng, khách hàng;
   - **Chỉ xem**: xem đơn hàng và báo cáo, không sửa được.
4. Bấm **Gửi lời mời**. Người được mời nhận email kích hoạt trong vài phút; lời mời có \
hiệu lực 7 ngày.

Số người dùng tối đa tuỳ theo gói dịch vụ. Khi một nhân viên nghỉ việc, Quý khách nên \
**vô hiệu hoá** tài khoản thay vì xoá, để giữ lại lịch sử thao tác.
"""

_SSO = """Gói Doanh nghiệp hỗ trợ đăng nhập một lần (SSO) qua SAML 2.0 với Google \
Workspace, Microsoft Entra ID (Microsoft 365) và các nhà cung cấp tương tự.

## Thiết lập
1. Vào **Cài đặt > Đăng nhập một lần** và sao chép **ACS URL** và **Entity ID**.
2. Tạo ứng dụng SAML trong trang quản trị của nhà cung cấp định danh, dán hai giá trị trên.
3. Tải tệp metadata (hoặc chứng chỉ) của nhà cung cấp lên trang cài đặt SSO.
4. Bấm **Kiểm tra kết nối** bằng một tài khoản quản trị trước khi bật cho cả công ty.

## Đăng nhập bị quay lại trang đăng nhập
Lỗi này thường xảy ra sau khi nhà cung cấp định danh **đổi chứng chỉ**. Quý khách tải \
chứng chỉ mới lên mục Đăng nhập một lần là đăng nhập lại được ngay.
"""

_VAT = """Chúng tôi xuất **hoá đơn điện tử (hoá đơn GTGT)** theo Nghị định 123/2020/NĐ-CP \
cho mọi khoản thanh toán của Quý khách.

## Khai báo thông tin xuất hoá đơn
1. Vào **Cài đặt > Thanh toán > Thông tin xuất hoá đơn**.
2. Nhập đúng **tên đơn vị** theo đăng ký kinh doanh, **mã số thuế**, **địa chỉ** và email \
nhận hoá đơn.
3. Bấm **Lưu**. Các hoá đơn xuất sau đó sẽ dùng thông tin mới.

## Xin hoá đơn cho một khoản đã thanh toán
Nếu khoản thanh toán chưa có hoá đơn, Quý khách gửi yêu cầu hỗ trợ kèm **mã đơn hàng** \
hoặc **mã hoá đơn** (dạng INV-2026-1234). Hoá đơn được gửi tới email đã khai báo trong \
vòng **2 ngày làm việc**.

Hoá đơn chỉ xuất trong tháng phát sinh thanh toán; Quý khách vui lòng gửi yêu cầu trước \
ngày cuối cùng của tháng.
"""

_ADJUST = """Nếu hoá đơn đã xuất có sai sót (tên công ty, mã số thuế, địa chỉ), chúng tôi \
sẽ lập **hoá đơn điều chỉnh** hoặc **hoá đơn thay thế** theo quy định.

1. Gửi yêu cầu hỗ trợ, ghi rõ mã hoá đơn bị sai và thông tin đúng.
2. Đính kèm giấy chứng nhận đăng ký kinh doanh nếu công ty vừa đổi tên hoặc địa chỉ.
3. Chúng tôi gửi biên bản điều chỉnh để Quý khách ký số, rồi xuất hoá đơn mới trong ngày.

Để các hoá đơn sau không bị sai, Quý khách nhớ cập nhật **Thông tin xuất hoá đơn** trong \
Cài đặt > Thanh toán.
"""

_REFUND = """## Khi nào Quý khách được hoàn tiền?
- Bị trừ tiền hai lần cho cùng một hoá đơn.
- Huỷ gói dịch vụ trong 14 ngày đầu của kỳ thanh toán đầu tiên.
- Bị tính phí sau khi đã huỷ gói.

## Cách yêu cầu hoàn tiền
1. Gửi yêu cầu hỗ trợ kèm **mã hoá đơn** và ảnh chụp sao kê (nếu bị trừ tiền hai lần).
2. Chúng tôi kiểm tra và xác nhận qua email trong vòng 1 ngày làm việc.
3. Tiền được hoàn về đúng phương thức Quý khách đã thanh toán.

## Bao lâu thì nhận được tiền?
| Phương thức | Thời gian |
|---|---|
| Thẻ Visa, Mastercard | 5 đến 10 ngày làm việc |
| Thẻ ATM nội địa | 3 đến 7 ngày làm việc |
| Chuyển khoản ngân hàng | 1 đến 3 ngày làm việc |

Thời gian trên tính từ lúc chúng tôi gửi email xác nhận hoàn tiền và phụ thuộc ngân hàng \
phát hành thẻ.
"""

_DECLINED = """Khi gia hạn hoặc thanh toán bằng thẻ bị từ chối, Quý khách thử lần lượt:

1. Kiểm tra thẻ còn hạn, đủ hạn mức và nhập đúng mã CVV.
2. Bật **thanh toán trực tuyến** và **thanh toán quốc tế** trong ứng dụng ngân hàng \
(thẻ Visa, Mastercard do ngân hàng Việt Nam phát hành thường tắt sẵn).
3. Nếu ngân hàng gửi mã OTP, nhập mã trong thời gian hiệu lực.
4. Thử lại sau 10 phút, hoặc dùng thẻ khác.

Nếu vẫn không được, Quý khách có thể **chuyển khoản** theo số tài khoản và nội dung ghi \
trên hoá đơn; dịch vụ được gia hạn ngay khi chúng tôi nhận được tiền. Mã lỗi "05" nghĩa là \
ngân hàng từ chối mà không nêu lý do: Quý khách vui lòng liên hệ ngân hàng phát hành thẻ.
"""

_PLAN = """Quý khách có thể đổi gói bất cứ lúc nào trong **Cài đặt > Gói dịch vụ**.

## Nâng cấp
Gói mới có hiệu lực ngay. Số ngày còn lại của gói cũ được quy đổi thành tiền và trừ vào \
hoá đơn đầu tiên của gói mới.

## Hạ cấp
Gói mới có hiệu lực từ kỳ thanh toán sau; Quý khách vẫn dùng gói hiện tại đến hết kỳ.

## Chuyển sang thanh toán theo năm
1. Vào **Cài đặt > Gói dịch vụ** và chọn **Thanh toán theo năm**.
2. Phần chưa dùng của tháng hiện tại được trừ vào hoá đơn năm.
3. Giá theo năm đã giảm tương đương **2 tháng** so với trả theo tháng.
"""

_CONFIRMATION = """Nếu khách mua hàng của Quý khách không nhận được email xác nhận đơn \
hàng, nguyên nhân thường gặp nhất là tên miền gửi thư chưa được xác thực.

1. Vào **Cài đặt > Email** và xem trạng thái tên miền gửi.
2. Nếu báo **Chưa xác thực**, thêm bản ghi **SPF** và **DKIM** hiển thị trên trang vào \
DNS của tên miền (tại nhà cung cấp tên miền của Quý khách).
3. Chờ DNS cập nhật (thường dưới 1 giờ) rồi bấm **Kiểm tra lại**.
4. Mở đơn hàng và bấm **Gửi lại email xác nhận**.

Quý khách cũng nên nhắc khách mua hàng kiểm tra thư mục Thư rác. Nhật ký gửi thư của \
từng đơn hàng nằm ở tab **Lịch sử** của đơn.
"""

_DELIVERY = """Mỗi đơn hàng có trạng thái giao hàng cập nhật tự động từ đơn vị vận chuyển.

1. Mở **Đơn hàng** và chọn đơn cần xem.
2. Tab **Giao hàng** hiển thị mã vận đơn, đơn vị vận chuyển và từng mốc: đã lấy hàng, \
đang vận chuyển, đang giao, đã giao.
3. Bấm **Sao chép liên kết theo dõi** để gửi cho khách mua hàng.

Nếu trạng thái không thay đổi quá 48 giờ, Quý khách kiểm tra lại mã vận đơn hoặc liên hệ \
đơn vị vận chuyển. Đơn giao không thành công sẽ được đánh dấu **Hoàn hàng** kèm lý do.
"""

_API_401 = """Lỗi `401 Unauthorized` với mã `invalid_token` nghĩa là yêu cầu không mang \
khoá API hợp lệ.

## Kiểm tra
1. Khoá API phải nằm trong **header**, không phải trong URL:

   ```
   Authorization: Bearer hd_xxxxxxxxxxxxxxxx
   ```
2. Khoá còn hiệu lực: xem trong **Cài đặt > Tích hợp > Khoá API**. Khoá bị thu hồi hoặc \
đã tạo lại sẽ không dùng được nữa.
3. Không có khoảng trắng hoặc ký tự xuống dòng thừa khi sao chép khoá.
4. Gọi đúng môi trường: khoá của môi trường thử nghiệm không dùng được cho môi trường \
chính thức.

Nếu vẫn lỗi, Quý khách gửi yêu cầu hỗ trợ kèm thời điểm gọi và **mã truy vết** \
(`X-Request-Id`) trong phản hồi, **không** gửi kèm khoá API.
"""

_EXPORT = """Mọi báo cáo đều xuất được ra Excel (XLSX) hoặc CSV.

1. Mở báo cáo và chọn khoảng thời gian.
2. Bấm **Xuất** và chọn **Excel** hoặc **CSV**.
3. Báo cáo lớn được xử lý nền; Quý khách nhận email có liên kết tải về khi tệp sẵn sàng \
(liên kết có hiệu lực 7 ngày).

## Lưu ý
- Báo cáo trên **65.000 dòng** nên xuất CSV cho nhanh.
- Khi mở CSV bằng Excel, chọn mã hoá **UTF-8** để tiếng Việt hiển thị đúng dấu.
"""

_WEBHOOK_DRAFT = """*Bản nháp: đang chờ đội kỹ thuật duyệt.*

Webhook gửi sự kiện (đơn hàng mới, thanh toán thành công, hoàn tiền) tới máy chủ của \
Quý khách.

1. Vào **Cài đặt > Tích hợp > Webhook** và bấm **Thêm webhook**.
2. Nhập URL nhận (bắt buộc HTTPS) và chọn các sự kiện cần nhận.
3. Máy chủ của Quý khách phải trả lời mã `2xx` trong **10 giây**; nếu quá thời gian, \
chúng tôi gửi lại tối đa 8 lần trong 24 giờ.

Để tránh lỗi hết thời gian chờ, Quý khách nên trả lời ngay rồi xử lý sự kiện ở hàng đợi \
riêng.
"""

ARTICLES_VI: tuple[ArticleSpec, ...] = (
    ArticleSpec(key="reset-password", category="account", title="Cách đặt lại mật khẩu",
                body=_RESET, tags=("login", "password")),
    ArticleSpec(key="account-locked", category="account",
                title="Tài khoản bị tạm khoá sau nhiều lần đăng nhập sai", body=_LOCKED,
                tags=("login", "account")),
    ArticleSpec(key="add-users", category="account",
                title="Thêm người dùng và phân quyền cho nhân viên", body=_USERS,
                tags=("account", "how-to")),
    ArticleSpec(key="sso", category="account",
                title="Đăng nhập một lần (SSO) với Google Workspace và Microsoft 365",
                body=_SSO, tags=("login", "sso")),
    ArticleSpec(key="vat-invoice", category="billing",
                title="Yêu cầu xuất hoá đơn VAT (hoá đơn điện tử)", body=_VAT,
                tags=("invoice", "vat")),
    ArticleSpec(key="adjust-invoice", category="billing",
                title="Điều chỉnh thông tin sai trên hoá đơn đã xuất", body=_ADJUST,
                tags=("invoice",)),
    ArticleSpec(key="refunds", category="billing",
                title="Chính sách hoàn tiền và thời gian nhận tiền", body=_REFUND,
                tags=("billing", "refund")),
    ArticleSpec(key="card-declined", category="billing",
                title="Thẻ bị từ chối khi thanh toán hoặc gia hạn", body=_DECLINED,
                tags=("payment",)),
    ArticleSpec(key="change-plan", category="billing",
                title="Nâng cấp, hạ cấp gói và chuyển sang thanh toán theo năm", body=_PLAN,
                tags=("plan", "upgrade")),
    ArticleSpec(key="order-email", category="orders",
                title="Khách mua hàng không nhận được email xác nhận đơn hàng",
                body=_CONFIRMATION, tags=("email", "orders")),
    ArticleSpec(key="delivery", category="orders", title="Theo dõi trạng thái giao hàng",
                body=_DELIVERY, tags=("delivery", "orders")),
    ArticleSpec(key="api-401", category="api", title="Khắc phục lỗi 401 khi gọi API",
                body=_API_401, tags=("api", "integration")),
    ArticleSpec(key="export-reports", category="reports",
                title="Xuất báo cáo ra Excel hoặc CSV", body=_EXPORT, tags=("reports",)),
    ArticleSpec(key="webhooks", category="api",
                title="Cấu hình webhook và xử lý lỗi hết thời gian chờ", body=_WEBHOOK_DRAFT,
                tags=("api", "webhooks"), published=False),
)  # fmt: skip
