"""tiktok-ads-integration: server-side TikTok conversion tracking and audiences for ticket shops."""

__version__ = "0.1.0"
