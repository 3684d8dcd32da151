"""Dispatch: claim ready events per pixel, send them to TikTok in batches, record the verdict.

Any number of dispatchers (threads of `serve`, `worker` processes on other machines) share the
queue through the store: claims never overlap, pacing and the daily cap live in the database.
`dispatcher` claims (the send loop), `sender` sends one batch and settles every event of it.
"""

from tiktok_ads.services.dispatch.dispatcher import DispatchConfig, Dispatcher
from tiktok_ads.services.dispatch.sender import BatchSender

__all__ = ["BatchSender", "DispatchConfig", "Dispatcher"]
