"""Conversations of the Vietnamese demo cases.

Agents address customers as "Quý khách" and speak as "chúng tôi", as the
glossary asks for customer-facing text. Placeholders are filled with
:meth:`str.format_map` (see :mod:`helpdesk.demo._plan`).
"""

from __future__ import annotations

from helpdesk.demo._story import Story

SIGNATURE_VI = "Trân trọng,\n{agent}\nBộ phận hỗ trợ khách hàng"

STORIES_VI: tuple[Story, ...] = (
    Story(
        key="vi-login",
        language="vi",
        team="support",
        subject="Không đăng nhập được vào tài khoản",
        opening=(
            "Chào bộ phận hỗ trợ,\n\nTừ sáng nay tôi không đăng nhập được vào tài khoản {email}. "
            'Tôi đã thử đặt lại mật khẩu hai lần nhưng hệ thống vẫn báo "Sai email hoặc mật '
            'khẩu". Tôi đang cần xuất báo cáo gấp, mong được hỗ trợ sớm.\n\nCảm ơn,\n{customer}'
        ),
        reply=(
            "Kính gửi Quý khách {customer},\n\nCảm ơn Quý khách đã liên hệ. Chúng tôi kiểm tra "
            "thấy tài khoản bị tạm khoá do đăng nhập sai quá 5 lần và đã mở khoá. Quý khách vui "
            "lòng xoá bộ nhớ đệm của trình duyệt rồi đăng nhập lại. Nếu vẫn lỗi, Quý khách gửi "
            "giúp chúng tôi ảnh chụp màn hình.\n\n{signature}"
        ),
        follow_up="Tôi đăng nhập được rồi. Cảm ơn bạn đã hỗ trợ nhanh!",
        resolution=(
            "Kính gửi Quý khách {customer},\n\nRất vui vì Quý khách đã đăng nhập lại được. "
            "Chúng tôi xin đóng yêu cầu {ref}. Nếu cần thêm hỗ trợ, Quý khách chỉ cần trả lời "
            "email này.\n\n{signature}"
        ),
        note="Tài khoản bị khoá do sai mật khẩu 5 lần liên tiếp, đã mở khoá thủ công.",
        tags=("login", "account"),
    ),
    Story(
        key="vi-mobile-crash",
        language="vi",
        team="support",
        subject="Ứng dụng trên điện thoại bị thoát khi mở mục Báo cáo",
        opening=(
            "Chào anh chị,\n\nỨng dụng trên điện thoại của tôi (iPhone 13, iOS 17) cứ mở mục "
            "Báo cáo là bị thoát ra ngoài. Bản trên máy tính vẫn dùng bình thường. Tôi đã gỡ ra "
            "cài lại nhưng không được.\n\n{customer}"
        ),
        reply=(
            "Kính gửi Quý khách {customer},\n\nCảm ơn Quý khách đã báo lỗi. Chúng tôi đã ghi "
            "nhận và chuyển cho đội phát triển. Trong lúc chờ bản sửa, Quý khách có thể xem báo "
            "cáo trên trình duyệt của điện thoại. Quý khách vui lòng cho biết phiên bản ứng dụng "
            "đang dùng (Cài đặt > Giới thiệu) để chúng tôi kiểm tra nhanh hơn.\n\n{signature}"
        ),
        follow_up="Phiên bản 3.8.1 nhé. Cảm ơn bạn.",
        resolution=(
            "Kính gửi Quý khách {customer},\n\nBản 3.8.2 đã sửa lỗi này và đã có trên App "
            "Store. Quý khách vui lòng cập nhật rồi thử lại. Nếu còn lỗi, Quý khách trả lời "
            "email này, yêu cầu {ref} sẽ được mở lại.\n\n{signature}"
        ),
        note="Đã tái hiện được trên iOS 17.4; đội mobile đang xử lý (MOB-482).",
        tags=("mobile-app", "bug"),
    ),
    Story(
        key="vi-api-401",
        language="vi",
        team="support",
        subject="Gọi API tạo đơn hàng luôn trả về lỗi 401",
        opening=(
            "Chào team,\n\nBên em đang tích hợp API tạo đơn hàng. Gọi POST /orders thì luôn "
            "nhận lỗi 401 Unauthorized dù token vừa tạo xong. Em gửi kèm log:\n\n"
            '    HTTP/1.1 401 Unauthorized\n    {{"error": "invalid_token"}}\n\n'
            "Nhờ team kiểm tra giúp.\n{customer}"
        ),
        reply=(
            "Kính gửi Quý khách {customer},\n\nTheo log, token đang được gửi trong tham số của "
            "URL. API chỉ nhận token ở header: Authorization: Bearer <token>. Quý khách vui lòng "
            "sửa lại và thử lần nữa.\n\n{signature}"
        ),
        follow_up="Đã sửa theo hướng dẫn và gọi được rồi. Cảm ơn anh chị nhiều!",
        resolution=(
            "Kính gửi Quý khách {customer},\n\nRất vui vì tích hợp đã chạy. Chúng tôi xin đóng "
            "yêu cầu {ref}. Chúc Quý khách một ngày làm việc hiệu quả!\n\n{signature}"
        ),
        note="Khách gửi token trong query string. Đề xuất thêm ví dụ vào tài liệu API.",
        tags=("api", "integration"),
        attachment=("api-log.txt", "POST /orders?token=hd_xxx HTTP/1.1\n401 invalid_token\n"),
    ),
    Story(
        key="vi-no-email",
        language="vi",
        team="support",
        subject="Không nhận được email xác nhận đơn hàng {order}",
        opening=(
            "Chào bộ phận hỗ trợ,\n\nKhách của chúng tôi đặt đơn {order} từ hôm qua nhưng không "
            "nhận được email xác nhận. Đã kiểm tra cả hộp thư rác. Nhờ kiểm tra giúp.\n\n"
            "{customer}\n{org}"
        ),
        reply=(
            "Kính gửi Quý khách {customer},\n\nChúng tôi kiểm tra thấy máy chủ thư của người "
            "nhận từ chối email vì tên miền gửi chưa có bản ghi SPF. Quý khách vui lòng thêm bản "
            "ghi SPF theo hướng dẫn trong mục Cài đặt > Email, sau đó chúng tôi sẽ gửi lại."
            "\n\n{signature}"
        ),
        follow_up="Bên tôi đã thêm bản ghi SPF rồi, nhờ bạn gửi lại giúp.",
        resolution=(
            "Kính gửi Quý khách {customer},\n\nChúng tôi đã gửi lại email xác nhận cho đơn "
            "{order} và người nhận đã nhận được. Xin đóng yêu cầu {ref}.\n\n{signature}"
        ),
        note="Mail bị trả về: 550 SPF check failed. Đã hướng dẫn khách thêm SPF.",
        tags=("email", "notifications"),
    ),
    Story(
        key="vi-add-users",
        language="vi",
        team="support",
        subject="Xin hướng dẫn thêm người dùng mới cho công ty",
        opening=(
            "Chào anh chị,\n\nCông ty tôi vừa có thêm 3 nhân viên mới. Tôi muốn tạo tài khoản "
            "cho họ và chỉ cho xem báo cáo, không được sửa. Nhờ hướng dẫn giúp.\n\n{customer}"
        ),
        reply=(
            "Kính gửi Quý khách {customer},\n\nQuý khách vào Cài đặt > Người dùng > Thêm người "
            'dùng, nhập email và chọn vai trò "Chỉ xem". Người được mời sẽ nhận email kích '
            "hoạt trong vài phút.\n\n{signature}"
        ),
        follow_up="Tôi làm được rồi, cảm ơn bạn.",
        resolution=(
            "Kính gửi Quý khách {customer},\n\nCảm ơn Quý khách đã phản hồi. Chúng tôi xin đóng "
            "yêu cầu {ref}.\n\n{signature}"
        ),
        note="Khách hỏi cách phân quyền; đã gửi đường dẫn bài viết hướng dẫn.",
        tags=("how-to", "account"),
    ),
    Story(
        key="vi-slow",
        language="vi",
        team="support",
        subject="Trang quản trị tải rất chậm từ chiều nay",
        opening=(
            "Chào bộ phận hỗ trợ,\n\nTừ khoảng 14 giờ chiều nay, trang quản trị mở rất chậm, "
            "mỗi lần chuyển trang mất gần 30 giây. Nhân viên bên tôi không làm việc được. "
            "Mong được xử lý gấp.\n\n{customer}\n{org}"
        ),
        reply=(
            "Kính gửi Quý khách {customer},\n\nChúng tôi xin lỗi vì sự bất tiện. Hệ thống đang "
            "quá tải ở một cụm máy chủ và đội vận hành đang xử lý. Chúng tôi sẽ báo lại ngay "
            "khi có cập nhật.\n\n{signature}"
        ),
        follow_up="Bây giờ đã nhanh hơn nhiều. Cảm ơn.",
        resolution=(
            "Kính gửi Quý khách {customer},\n\nSự cố đã được khắc phục lúc 16 giờ 20. Chúng tôi "
            "thành thật xin lỗi vì gián đoạn vừa qua. Xin đóng yêu cầu {ref}.\n\n{signature}"
        ),
        note="Liên quan sự cố INC-2291 (cụm máy chủ HCM-2). Theo dõi cùng đội vận hành.",
        tags=("performance", "incident"),
    ),
    Story(
        key="vi-export",
        language="vi",
        team="support",
        subject="Không xuất được file Excel báo cáo tháng {month}",
        opening=(
            "Chào anh chị,\n\nTôi bấm Xuất Excel ở báo cáo doanh thu tháng {month} thì file tải "
            "về bị lỗi, không mở được. Các tháng trước vẫn bình thường.\n\n{customer}"
        ),
        reply=(
            "Kính gửi Quý khách {customer},\n\nChúng tôi đã tái hiện được lỗi với báo cáo có "
            "hơn 65.000 dòng. Trong lúc chờ sửa, Quý khách có thể chọn xuất CSV. Chúng tôi sẽ "
            "báo lại khi có bản sửa.\n\n{signature}"
        ),
        follow_up="Xuất CSV thì được. Khi nào sửa xong nhớ báo tôi nhé.",
        resolution=(
            "Kính gửi Quý khách {customer},\n\nLỗi xuất Excel đã được sửa trong bản cập nhật "
            "tối qua. Quý khách vui lòng thử lại. Xin đóng yêu cầu {ref}.\n\n{signature}"
        ),
        note="Giới hạn 65.536 dòng của định dạng XLS cũ; cần chuyển sang XLSX.",
        tags=("reports", "bug"),
    ),
    Story(
        key="vi-dark-mode",
        language="vi",
        team="support",
        subject="Đề xuất: thêm chế độ nền tối cho giao diện",
        opening=(
            "Chào team,\n\nNhân viên bên tôi làm ca đêm rất nhiều, mong phần mềm có chế độ nền "
            "tối cho đỡ mỏi mắt. Không biết có kế hoạch làm không?\n\n{customer}"
        ),
        reply=(
            "Kính gửi Quý khách {customer},\n\nCảm ơn Quý khách đã góp ý. Chúng tôi đã chuyển "
            "đề xuất cho bộ phận sản phẩm; chế độ nền tối đang nằm trong kế hoạch quý tới."
            "\n\n{signature}"
        ),
        follow_up="Tuyệt vời, mong sớm có.",
        resolution=(
            "Kính gửi Quý khách {customer},\n\nChúng tôi sẽ thông báo khi tính năng ra mắt. Xin "
            "đóng yêu cầu {ref}.\n\n{signature}"
        ),
        note="Đã thêm phiếu bầu cho đề xuất dark mode (hiện 47 khách yêu cầu).",
        tags=("feature-request",),
    ),
    Story(
        key="vi-double-charge",
        language="vi",
        team="billing",
        subject="Bị trừ tiền hai lần cho hoá đơn {invoice}",
        opening=(
            "Chào bộ phận thanh toán,\n\nTài khoản ngân hàng của công ty tôi bị trừ {amount} "
            "hai lần cho hoá đơn {invoice} vào ngày hôm qua. Tôi gửi kèm sao kê. Đề nghị hoàn "
            "lại khoản bị trừ thừa.\n\n{customer}\n{org}"
        ),
        reply=(
            "Kính gửi Quý khách {customer},\n\nChúng tôi xác nhận giao dịch cho hoá đơn "
            "{invoice} bị ghi nhận hai lần do lỗi cổng thanh toán. Khoản {amount} sẽ được hoàn "
            "về tài khoản của Quý khách trong 5 đến 7 ngày làm việc.\n\n{signature}"
        ),
        follow_up="Tôi đã nhận được tiền hoàn. Cảm ơn.",
        resolution=(
            "Kính gửi Quý khách {customer},\n\nCảm ơn Quý khách đã xác nhận. Chúng tôi xin đóng "
            "yêu cầu {ref}.\n\n{signature}"
        ),
        note="Cổng thanh toán gửi webhook trùng; đã tạo lệnh hoàn tiền RF-7731.",
        tags=("billing", "refund"),
    ),
    Story(
        key="vi-vat-invoice",
        language="vi",
        team="billing",
        subject="Yêu cầu xuất hoá đơn VAT cho đơn hàng {order}",
        opening=(
            "Chào anh chị,\n\nCông ty chúng tôi cần hoá đơn giá trị gia tăng cho đơn hàng "
            "{order}. Thông tin xuất hoá đơn:\n- Tên đơn vị: {org}\n- Mã số thuế: 0312345678\n"
            "- Địa chỉ: 25 Nguyễn Thị Minh Khai, Quận 1, TP. Hồ Chí Minh\n\nCảm ơn.\n{customer}"
        ),
        reply=(
            "Kính gửi Quý khách {customer},\n\nChúng tôi đã nhận đủ thông tin. Hoá đơn điện tử "
            "sẽ được gửi tới email {email} trong vòng 2 ngày làm việc.\n\n{signature}"
        ),
        follow_up="Đã nhận được hoá đơn, cảm ơn bạn.",
        resolution=(
            "Kính gửi Quý khách {customer},\n\nCảm ơn Quý khách. Chúng tôi xin đóng yêu cầu "
            "{ref}.\n\n{signature}"
        ),
        note="Đã đối chiếu mã số thuế trên cổng tra cứu của Tổng cục Thuế.",
        tags=("invoice", "vat"),
    ),
    Story(
        key="vi-upgrade",
        language="vi",
        team="billing",
        subject="Hỏi về việc nâng cấp lên gói Doanh nghiệp",
        opening=(
            "Chào anh chị,\n\nBên tôi đang dùng gói Tiêu chuẩn, muốn nâng lên gói Doanh nghiệp "
            "từ tháng sau. Chi phí được tính thế nào cho thời gian còn lại của gói cũ?\n\n"
            "{customer}"
        ),
        reply=(
            "Kính gửi Quý khách {customer},\n\nKhi nâng cấp, số ngày còn lại của gói Tiêu chuẩn "
            "được quy đổi và trừ vào hoá đơn đầu tiên của gói Doanh nghiệp. Quý khách có thể "
            "nâng cấp trong Cài đặt > Gói dịch vụ, hoặc chúng tôi làm giúp nếu Quý khách xác "
            "nhận.\n\n{signature}"
        ),
        follow_up="Nhờ bạn nâng cấp giúp từ ngày 1 tháng sau.",
        resolution=(
            "Kính gửi Quý khách {customer},\n\nChúng tôi đã lên lịch nâng cấp từ ngày 1 tháng "
            "sau và gửi báo giá qua email. Xin đóng yêu cầu {ref}.\n\n{signature}"
        ),
        note="Khách tiềm năng cho hợp đồng năm, đã báo cho quản lý tài khoản.",
        tags=("plan", "upgrade"),
    ),
    Story(
        key="vi-card-declined",
        language="vi",
        team="billing",
        subject="Thẻ bị từ chối khi gia hạn dịch vụ",
        opening=(
            "Chào bộ phận thanh toán,\n\nTôi gia hạn dịch vụ bằng thẻ Visa nhưng hệ thống báo "
            "thẻ bị từ chối, trong khi thẻ vẫn dùng bình thường ở nơi khác.\n\n{customer}"
        ),
        reply=(
            "Kính gửi Quý khách {customer},\n\nNgân hàng phát hành từ chối giao dịch với mã 05 "
            "(không xác nhận được). Quý khách vui lòng bật thanh toán trực tuyến quốc tế trong "
            "ứng dụng ngân hàng rồi thử lại, hoặc chuyển khoản theo thông tin trên hoá đơn."
            "\n\n{signature}"
        ),
        follow_up="Tôi đã bật thanh toán quốc tế và gia hạn thành công.",
        resolution=(
            "Kính gửi Quý khách {customer},\n\nCảm ơn Quý khách. Dịch vụ đã được gia hạn. Xin "
            "đóng yêu cầu {ref}.\n\n{signature}"
        ),
        note="Mã từ chối 05 từ ngân hàng phát hành; không phải lỗi của cổng thanh toán.",
        tags=("payment",),
    ),
    Story(
        key="vi-invoice-wrong",
        language="vi",
        team="billing",
        subject="Sai tên công ty trên hoá đơn tháng {month}",
        opening=(
            "Chào anh chị,\n\nHoá đơn {invoice} tháng {month} ghi sai tên công ty chúng tôi. "
            "Tên đúng là {org}. Nhờ điều chỉnh và xuất lại giúp.\n\n{customer}"
        ),
        reply=(
            "Kính gửi Quý khách {customer},\n\nChúng tôi xin lỗi vì sai sót này. Chúng tôi sẽ "
            "lập hoá đơn điều chỉnh cho {invoice} và gửi lại trong hôm nay.\n\n{signature}"
        ),
        follow_up="Đã nhận hoá đơn điều chỉnh. Cảm ơn.",
        resolution=(
            "Kính gửi Quý khách {customer},\n\nChúng tôi đã cập nhật tên công ty trong hồ sơ "
            "để các hoá đơn sau không bị sai. Xin đóng yêu cầu {ref}.\n\n{signature}"
        ),
        note="Tên công ty trong hồ sơ thanh toán là tên cũ trước khi đổi đăng ký kinh doanh.",
        tags=("invoice",),
    ),
)
