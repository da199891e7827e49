"""English translations of the demo's knowledge-base articles, by the key of the
Vietnamese original (:mod:`helpdesk.demo._kb_vi`); the article about a purely
Vietnamese matter (adjusting an issued e-invoice) and the draft have none.
"""

from __future__ import annotations

_RESET = """If you have forgotten your password, you can reset it yourself in a few minutes:

1. Open the sign-in page and click **Forgot password?**
2. Enter the email address you sign in with and click **Send link**.
3. Open the "Reset your password" email and click the link. It works for 30 minutes, once.
4. Enter your new password (at least 10 characters, letters and digits) twice and click \
**Save**.

## No email?
- Look in your **Spam** or **Promotions** folder.
- Wait about 5 minutes before asking again; each new link cancels the previous one.

## The link says it has expired right away?
Some company mail filters open links to scan them, which uses them up. Copy the link and \
paste it into your browser, or contact us for a new one.
"""

_LOCKED = """To protect your account, sign-in is locked for a while after **5 wrong \
passwords in a row**. The page then says "Wrong email or password" even when you type the \
right one.

## Unlocking
1. Wait 15 minutes: the account unlocks by itself.
2. Or reset your password with **Forgot password?**: the account unlocks as soon as the \
new password is saved.
3. If it still fails, clear your browser's cache and try again.

## Still locked out?
Open a support request with your sign-in address and a screenshot of the message. For \
security, we unlock accounts by hand only when the request comes from the account's own \
address or from your company's administrator.
"""

_USERS = """Your company's administrators can invite users and limit what they may do.

1. Go to **Settings > Users** and click **Add user**.
2. Enter the invitee's email address (one per line to invite several people).
3. Choose a role:
   - **Admin**: everything, including billing and users;
   - **Staff**: create and edit orders and customers;
   - **View only**: see orders and reports, change nothing.
4. Click **Send invitation**. The activation email arrives within minutes and is valid \
for 7 days.

How many users you can have depends on your plan. When someone leaves, **deactivate** \
their account rather than deleting it, so that their history is kept.
"""

_SSO = """The Enterprise plan supports single sign-on (SSO) over SAML 2.0 with Google \
Workspace, Microsoft Entra ID (Microsoft 365) and similar identity providers.

## Setting it up
1. Go to **Settings > Single sign-on** and copy the **ACS URL** and **Entity ID**.
2. Create a SAML app in your identity provider's admin console and paste both values.
3. Upload the provider's metadata file (or certificate) on the SSO settings page.
4. Click **Test connection** with an admin account before turning it on for everyone.

## Sign-in loops back to the login page
This usually happens after your identity provider **rotated its certificate**. Upload \
the new certificate under Single sign-on and sign-in works again at once.
"""

_VAT = """We issue an **electronic VAT invoice** for every payment, as Vietnamese law \
(Decree 123/2020/ND-CP) requires.

## Your invoicing details
1. Go to **Settings > Billing > Invoicing details**.
2. Enter your **company name** exactly as registered, your **tax code**, **address** and \
the email address that receives invoices.
3. Click **Save**. Invoices issued from then on use the new details.

## An invoice for a payment already made
If a payment has no invoice yet, open a support request with the **order number** or \
**invoice number** (like INV-2026-1234). The invoice is emailed within **2 business days**.

Invoices can only be issued in the month of the payment, so please ask before the last \
day of that month.
"""

_REFUND = """## When do we refund?
- You were charged twice for the same invoice.
- You cancel within the first 14 days of your first billing period.
- You were charged after cancelling your subscription.

## How to ask for a refund
1. Open a support request with the **invoice number**, and a bank statement if you were \
charged twice.
2. We check and confirm by email within 1 business day.
3. The money goes back to the payment method you used.

## How long does it take?
| Payment method | Time |
|---|---|
| Visa, Mastercard | 5 to 10 business days |
| Vietnamese ATM card | 3 to 7 business days |
| Bank transfer | 1 to 3 business days |

These times start when we email the refund confirmation and depend on your bank.
"""

_DECLINED = """If your card is declined at renewal or payment, try these in order:

1. Check that the card has not expired, has enough limit and that the CVV is right.
2. Turn on **online payments** and **international payments** in your banking app (cards \
issued by Vietnamese banks often have them off).
3. If your bank sends a one-time code, enter it before it expires.
4. Try again after 10 minutes, or use another card.

If it still fails, pay by **bank transfer** to the account and reference shown on the \
invoice; the service is renewed as soon as we receive the money. Decline code "05" means \
the bank refused without giving a reason: please contact the bank that issued the card.
"""

_PLAN = """You can change your plan at any time under **Settings > Plan**.

## Upgrading
The new plan starts at once. The unused days of the old plan are credited to the first \
invoice of the new one.

## Downgrading
The new plan starts with the next billing period; you keep the current plan until then.

## Switching to annual billing
1. Go to **Settings > Plan** and choose **Annual billing**.
2. The unused part of the current month is credited to the annual invoice.
3. The annual price includes a discount of **two months** compared with paying monthly.
"""

_CONFIRMATION = """When your buyers do not receive order confirmation emails, the most \
common reason is a sending domain that has not been verified.

1. Go to **Settings > Email** and look at the status of your sending domain.
2. If it says **Not verified**, add the **SPF** and **DKIM** records shown on the page to \
your domain's DNS (at your domain registrar).
3. Wait for DNS to update (usually under an hour) and click **Check again**.
4. Open the order and click **Resend confirmation email**.

Ask your buyers to look in their spam folder too. Each order's mail log is on the order's \
**History** tab.
"""

_DELIVERY = """Each order's delivery status is updated automatically by the carrier.

1. Open **Orders** and choose the order.
2. The **Delivery** tab shows the tracking number, the carrier and each step: picked up, \
in transit, out for delivery, delivered.
3. Click **Copy tracking link** to send it to your buyer.

If the status has not changed for more than 48 hours, check the tracking number or contact \
the carrier. A failed delivery is marked **Returned**, with the reason.
"""

_API_401 = """A `401 Unauthorized` response with the code `invalid_token` means the request \
did not carry a valid API key.

## Checklist
1. The key goes in a **header**, never in the URL:

   ```
   Authorization: Bearer hd_xxxxxxxxxxxxxxxx
   ```
2. The key is still valid: see **Settings > Integrations > API keys**. A revoked or \
regenerated key stops working.
3. No extra spaces or line breaks were copied with the key.
4. You are calling the right environment: sandbox keys do not work in production.

If it still fails, open a support request with the time of the call and the \
`X-Request-Id` of the response, and **never** include the key itself.
"""

_EXPORT = """Every report can be exported to Excel (XLSX) or CSV.

1. Open the report and choose the date range.
2. Click **Export** and choose **Excel** or **CSV**.
3. Large reports are prepared in the background; you get an email with a download link \
when the file is ready (the link works for 7 days).

## Tips
- For reports over **65,000 rows**, CSV is faster.
- When opening a CSV in Excel, choose **UTF-8** encoding so that Vietnamese text shows \
its accents.
"""

ARTICLES_EN: dict[str, tuple[str, str]] = {
    "reset-password": ("How to reset your password", _RESET),
    "account-locked": ("Account locked after too many failed sign-ins", _LOCKED),
    "add-users": ("Adding users and choosing their roles", _USERS),
    "sso": ("Single sign-on (SSO) with Google Workspace and Microsoft 365", _SSO),
    "vat-invoice": ("Requesting a VAT invoice (e-invoice)", _VAT),
    "refunds": ("Refund policy and how long refunds take", _REFUND),
    "card-declined": ("Card declined at payment or renewal", _DECLINED),
    "change-plan": ("Upgrading, downgrading and switching to annual billing", _PLAN),
    "order-email": ("Buyers not receiving order confirmation emails", _CONFIRMATION),
    "delivery": ("Tracking deliveries", _DELIVERY),
    "api-401": ("Fixing 401 errors from the API", _API_401),
    "export-reports": ("Exporting reports to Excel or CSV", _EXPORT),
}
"""Title and Markdown body of each translated article, by its Vietnamese key."""
