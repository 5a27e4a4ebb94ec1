"""Server-rendered HTML pages (Jinja + htmx); controllers listed for the app factory."""

from imageuploader.accounts.pages import LoginPages
from imageuploader.pages.admin import AdminPages
from imageuploader.pages.images import GalleryPages, ImagePages, UploadPages

PAGE_CONTROLLERS: list[type] = [LoginPages, GalleryPages, UploadPages, ImagePages, AdminPages]
