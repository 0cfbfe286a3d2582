"""Local stand-ins for chat SaaS endpoints (DingTalk, WeCom, Feishu, Slack), a generic
webhook receiver and SMTP, checking what the real endpoints check."""
