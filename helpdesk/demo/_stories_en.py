"""Conversations of the English demo cases (placeholders as in :mod:`._story`)."""

from __future__ import annotations

from helpdesk.demo._story import Story

SIGNATURE_EN = "Best regards,\n{agent}\nCustomer Support"

STORIES_EN: tuple[Story, ...] = (
    Story(
        key="en-reset-expired",
        language="en",
        team="support",
        subject="Password reset link has expired",
        opening=(
            "Hello,\n\nI requested a password reset for {email}, but the link in the email "
            "says it has expired, even though I clicked it within a minute. I have tried three "
            "times now.\n\nThanks,\n{customer}"
        ),
        reply=(
            "Hi {first},\n\nThank you for reaching out. Some mail scanners open links before "
            "you do, which uses them up. I have sent you a new link that works only from your "
            "browser. Could you try it and let me know?\n\n{signature}"
        ),
        follow_up="That worked, I'm back in. Thank you!",
        resolution=(
            "Hi {first},\n\nGlad to hear it. I'm closing case {ref}; just reply to this "
            "email if anything else comes up.\n\n{signature}"
        ),
        note="Customer's mail gateway pre-fetches links (Safe Links). Sent a one-click link.",
        tags=("login", "account"),
    ),
    Story(
        key="en-webhook-timeout",
        language="en",
        team="support",
        subject="Webhook deliveries failing with timeouts",
        opening=(
            "Hi team,\n\nSince yesterday about half of the webhook deliveries to our endpoint "
            "fail with a timeout, and the retries pile up. Our endpoint answers in under 200 ms "
            "when I test it by hand. Can you check from your side?\n\n{customer}\n{org}"
        ),
        reply=(
            "Hi {first},\n\nOur delivery logs show that your endpoint resolves to two "
            "addresses and one of them does not answer. Could you check the DNS records of your "
            "webhook host?\n\n{signature}"
        ),
        follow_up="You were right: a stale A record from our old load balancer. Removed it.",
        resolution=(
            "Hi {first},\n\nDeliveries have succeeded for the last two hours and the backlog "
            "has been replayed. Closing case {ref}.\n\n{signature}"
        ),
        note="One of the two A records (203.0.113.14) times out. Not our incident.",
        tags=("api", "webhooks"),
        attachment=("delivery-log.txt", "POST https://hooks.example/ timeout after 10s (x42)\n"),
    ),
    Story(
        key="en-timezone",
        language="en",
        team="support",
        subject="Dashboard shows times in the wrong time zone",
        opening=(
            "Hello,\n\nAll the times on our dashboard are 7 hours off. Our office is in Ho Chi "
            "Minh City and the account settings say Asia/Ho_Chi_Minh.\n\nRegards,\n{customer}"
        ),
        reply=(
            "Hi {first},\n\nThanks for the report. Your user profile has its own time zone, "
            "which overrides the account's, and it is set to UTC. You can change it under "
            "Profile > Preferences.\n\n{signature}"
        ),
        follow_up="Fixed, thanks. Maybe the profile should default to the account's zone?",
        resolution=(
            "Hi {first},\n\nGood point; I have passed it on to the product team. Closing "
            "case {ref}.\n\n{signature}"
        ),
        note="Suggestion logged: new profiles should inherit the account time zone.",
        tags=("bug", "timezone"),
    ),
    Story(
        key="en-export-csv",
        language="en",
        team="support",
        subject="How do I export all our tickets to CSV?",
        opening=(
            "Hi,\n\nOur auditors need a list of every ticket from last quarter with status and "
            "resolution time. Is there a way to export that?\n\n{customer}"
        ),
        reply=(
            "Hi {first},\n\nYes: in Reports, pick the date range, then Export CSV. The file "
            "includes status, first response time and resolution time for each ticket.\n\n"
            "{signature}"
        ),
        follow_up="Got it, exactly what we needed.",
        resolution="Hi {first},\n\nGreat! Closing case {ref}.\n\n{signature}",
        note="Standard how-to; pointed to the knowledge base article on exports.",
        tags=("how-to", "export"),
    ),
    Story(
        key="en-sso-loop",
        language="en",
        team="support",
        subject="SSO sign-in loops back to the login page",
        opening=(
            "Hello,\n\nAfter we rotated our identity provider's certificate this morning, "
            "signing in with SSO sends everyone straight back to the login page. Nobody on our "
            "team can work. This is urgent.\n\n{customer}\n{org}"
        ),
        reply=(
            "Hi {first},\n\nSorry for the disruption. The new certificate has not been "
            "uploaded to your SSO settings yet, so we reject the signed responses. Please upload "
            "it under Settings > Single sign-on, or send it to us and we will do it.\n\n"
            "{signature}"
        ),
        follow_up="Uploaded the new certificate, SSO works again.",
        resolution=("Hi {first},\n\nThank you for confirming. Closing case {ref}.\n\n{signature}"),
        note="SAML signature validation failed: certificate fingerprint mismatch.",
        tags=("login", "sso"),
    ),
    Story(
        key="en-slack",
        language="en",
        team="support",
        subject="Feature request: Slack notifications for new tickets",
        opening=(
            "Hi there,\n\nWould it be possible to post new urgent tickets to a Slack channel? "
            "Our on-call team lives in Slack.\n\nCheers,\n{customer}"
        ),
        reply=(
            "Hi {first},\n\nThanks for the suggestion! Today you can do it with a webhook "
            "and Slack's incoming webhooks; a native integration is on our roadmap.\n\n"
            "{signature}"
        ),
        follow_up="The webhook route works for now, thanks.",
        resolution="Hi {first},\n\nGlad it helps. Closing case {ref}.\n\n{signature}",
        note="+1 for the native Slack integration request.",
        tags=("feature-request",),
    ),
    Story(
        key="en-charged-after-cancel",
        language="en",
        team="billing",
        subject="Charged after cancelling our subscription",
        opening=(
            "Hello,\n\nWe cancelled our subscription on the 3rd but our card was charged "
            "{amount} for invoice {invoice} on the 5th. Please refund it.\n\n{customer}"
        ),
        reply=(
            "Hi {first},\n\nI'm sorry about that. The cancellation was scheduled for the end "
            "of the billing period instead of immediately. I have cancelled it now and issued "
            "a full refund of {amount}; it takes 5 to 10 business days to appear.\n\n"
            "{signature}"
        ),
        follow_up="Refund received. Thanks for sorting it out quickly.",
        resolution=(
            "Hi {first},\n\nThanks for letting us know. Closing case {ref}.\n\n{signature}"
        ),
        note="Cancellation UI defaults to end of period; refund RF-8120 issued.",
        tags=("billing", "refund"),
    ),
    Story(
        key="en-invoice-copy",
        language="en",
        team="billing",
        subject="Need a copy of invoice {invoice}",
        opening=(
            "Hi,\n\nOur finance team can't find invoice {invoice}. Could you send a PDF copy?"
            "\n\nThank you,\n{customer}\n{org}"
        ),
        reply=(
            "Hi {first},\n\nI have emailed the PDF of invoice {invoice} to {email}. All "
            "invoices are also under Settings > Billing > Invoices.\n\n{signature}"
        ),
        follow_up="Received, thanks.",
        resolution="Hi {first},\n\nYou're welcome. Closing case {ref}.\n\n{signature}",
        note="Invoice emails went to a former employee's address; updated billing contact.",
        tags=("invoice",),
    ),
    Story(
        key="en-annual",
        language="en",
        team="billing",
        subject="Switching from monthly to annual billing",
        opening=(
            "Hello,\n\nWe'd like to switch to annual billing to get the discount. How is the "
            "current month handled?\n\n{customer}"
        ),
        reply=(
            "Hi {first},\n\nWhen you switch, the unused part of this month is credited to "
            "the annual invoice, and the annual price includes a two-month discount. Shall I "
            "switch you from the next billing date?\n\n{signature}"
        ),
        follow_up="Yes please, from the next billing date.",
        resolution=(
            "Hi {first},\n\nDone: you move to annual billing on the next billing date. "
            "Closing case {ref}.\n\n{signature}"
        ),
        note="Plan change scheduled; account manager informed.",
        tags=("plan",),
    ),
    Story(
        key="en-vat-number",
        language="en",
        team="billing",
        subject="Receipt is missing our company VAT number",
        opening=(
            "Hi,\n\nThe receipt for {invoice} doesn't show our VAT number, so our accountant "
            "can't book it. Can you reissue it?\n\n{customer}\n{org}"
        ),
        reply=(
            "Hi {first},\n\nThe VAT number field in your billing profile was empty. Could "
            "you add it under Settings > Billing, or reply with it and I'll add it for you?"
            "\n\n{signature}"
        ),
        follow_up="Added it to the billing profile just now.",
        resolution=(
            "Hi {first},\n\nI have reissued the receipt for {invoice} with your VAT number. "
            "Closing case {ref}.\n\n{signature}"
        ),
        note="Reissued receipt; future receipts will include the VAT number.",
        tags=("invoice", "vat"),
    ),
)
