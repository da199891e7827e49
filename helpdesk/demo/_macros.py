"""The demo's macros (canned replies, "mẫu trả lời") in Vietnamese and English.

Bodies use the placeholders the macro service fills
(:data:`helpdesk.services.macros.PLACEHOLDERS`): ``{{customer_name}}``,
``{{case_number}}`` and ``{{agent_name}}``. Macros are found by their unique
name, so a second run creates nothing.
"""

from __future__ import annotations

from helpdesk.policy import Principal
from helpdesk.schemas import MacroIn
from helpdesk.services import macros
from helpdesk.tables import Macro

_SIGN_VI = "Trân trọng,\n{{agent_name}}\nBộ phận hỗ trợ khách hàng"
_SIGN_EN = "Best regards,\n{{agent_name}}\nCustomer Support"

MACROS: tuple[MacroIn, ...] = (
    MacroIn(
        name="Chào hỏi – đã nhận yêu cầu",
        body=(
            "Kính gửi Quý khách {{customer_name}},\n\nCảm ơn Quý khách đã liên hệ bộ phận hỗ "
            "trợ khách hàng. Chúng tôi đã nhận được yêu cầu {{case_number}} và đang kiểm tra. "
            "Chúng tôi sẽ phản hồi Quý khách trong thời gian sớm nhất.\n\n" + _SIGN_VI
        ),
    ),
    MacroIn(
        name="Xin mã đơn hàng",
        body=(
            "Kính gửi Quý khách {{customer_name}},\n\nĐể kiểm tra nhanh hơn, Quý khách vui "
            "lòng cho chúng tôi biết mã đơn hàng (dạng DH123456, in trong email xác nhận đơn "
            "hàng) và email đã dùng khi đặt hàng.\n\nChúng tôi sẽ tiếp tục xử lý yêu cầu "
            "{{case_number}} ngay khi nhận được thông tin.\n\n" + _SIGN_VI
        ),
    ),
    MacroIn(
        name="Hướng dẫn đặt lại mật khẩu",
        body=(
            "Kính gửi Quý khách {{customer_name}},\n\nQuý khách có thể tự đặt lại mật khẩu "
            'như sau:\n1. Mở trang đăng nhập và bấm "Quên mật khẩu?".\n2. Nhập email đăng '
            'nhập và bấm "Gửi liên kết".\n3. Mở email vừa nhận và bấm vào liên kết (có hiệu '
            'lực 30 phút, chỉ dùng một lần).\n4. Nhập mật khẩu mới hai lần và bấm "Lưu".\n\n'
            "Nếu không thấy email, Quý khách kiểm tra thư mục Thư rác. Nếu vẫn không đăng nhập "
            "được, Quý khách chỉ cần trả lời email này.\n\n" + _SIGN_VI
        ),
    ),
    MacroIn(
        name="Xác nhận xuất hoá đơn VAT",
        body=(
            "Kính gửi Quý khách {{customer_name}},\n\nChúng tôi đã nhận đủ thông tin xuất hoá "
            "đơn (tên đơn vị, mã số thuế, địa chỉ). Hoá đơn điện tử sẽ được gửi tới email của "
            "Quý khách trong vòng 2 ngày làm việc.\n\nĐể các hoá đơn sau tự động đúng thông "
            "tin, Quý khách có thể cập nhật mục Cài đặt > Thanh toán > Thông tin xuất hoá đơn."
            "\n\n" + _SIGN_VI
        ),
    ),
    MacroIn(
        name="Thời gian hoàn tiền",
        body=(
            "Kính gửi Quý khách {{customer_name}},\n\nChúng tôi đã tạo lệnh hoàn tiền cho yêu "
            "cầu {{case_number}}. Tiền được hoàn về đúng phương thức Quý khách đã thanh toán:\n"
            "- Thẻ Visa, Mastercard: 5 đến 10 ngày làm việc;\n- Thẻ ATM nội địa: 3 đến 7 ngày "
            "làm việc;\n- Chuyển khoản: 1 đến 3 ngày làm việc.\n\nThời gian thực tế phụ thuộc "
            "ngân hàng của Quý khách.\n\n" + _SIGN_VI
        ),
    ),
    MacroIn(
        name="Kết thúc – đã giải quyết",
        body=(
            "Kính gửi Quý khách {{customer_name}},\n\nRất vui vì vấn đề của Quý khách đã được "
            "giải quyết. Chúng tôi xin đóng yêu cầu {{case_number}}. Nếu cần thêm hỗ trợ, Quý "
            "khách chỉ cần trả lời email này, yêu cầu sẽ được mở lại.\n\nChúc Quý khách một "
            "ngày làm việc hiệu quả!\n\n" + _SIGN_VI
        ),
    ),
    MacroIn(
        name="Greeting – request received (English)",
        body=(
            "Hi {{customer_name}},\n\nThank you for contacting us. We have received your "
            "request {{case_number}} and are looking into it now. We'll get back to you as "
            "soon as we can.\n\n" + _SIGN_EN
        ),
    ),
    MacroIn(
        name="Password reset steps (English)",
        body=(
            "Hi {{customer_name}},\n\nYou can reset your password yourself:\n1. Open the "
            'sign-in page and click "Forgot password?".\n2. Enter your sign-in email and '
            'click "Send link".\n3. Open the email and click the link (valid for 30 minutes, '
            'once).\n4. Enter your new password twice and click "Save".\n\nIf the email '
            "doesn't arrive, please check your spam folder, or simply reply to this message."
            "\n\n" + _SIGN_EN
        ),
    ),
    MacroIn(
        name="Refund timeline (English)",
        body=(
            "Hi {{customer_name}},\n\nWe have issued the refund for request {{case_number}}. "
            "It goes back to the payment method you used: 5 to 10 business days for Visa and "
            "Mastercard, 1 to 3 business days for a bank transfer. The exact time depends on "
            "your bank.\n\n" + _SIGN_EN
        ),
    ),
    MacroIn(
        name="Closing – solved (English)",
        body=(
            "Hi {{customer_name}},\n\nGlad we could sort this out. I'm closing request "
            "{{case_number}} now; if anything else comes up, just reply to this email and it "
            "will reopen.\n\n" + _SIGN_EN
        ),
    ),
)


async def ensure_macros(author: Principal) -> int:
    """Create the demo macros that do not exist yet (by name); how many were created.

    ``author`` must be allowed to manage macros (the demo manager).
    """
    created = 0
    for data in MACROS:
        if await Macro.exists().where(Macro.name == data.name):
            continue
        await macros.create_macro(author, data)
        created += 1
    return created
