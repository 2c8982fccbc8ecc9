SAMPLES = {
    # Public development pages: an unknown message answers 404, like everything here when DEBUG is off.
    "dev_mail_detail": lambda account: {"key": "20260101T000000000000-unknown"},
    "dev_mail_html": lambda account: {"key": "20260101T000000000000-unknown"},
}
