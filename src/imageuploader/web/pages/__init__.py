"""Server-rendered HTML pages (Jinja + htmx); controllers listed for the app factory."""

from imageuploader.web.pages.account import AccountPages
from imageuploader.web.pages.admin import AdminPages
from imageuploader.web.pages.images import GalleryPages, ImagePages, UploadPages
from imageuploader.web.pages.login import LoginPages
from imageuploader.web.pages.webhooks import WebhookPages

PAGE_CONTROLLERS: list[type] = [
    LoginPages,
    AccountPages,
    GalleryPages,
    UploadPages,
    ImagePages,
    AdminPages,
    WebhookPages,
]
