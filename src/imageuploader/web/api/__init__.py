"""The JSON API's controllers, listed for the app factory."""

from imageuploader.web.api.accounts import (
    AdminPlansController,
    AdminSizesController,
    AdminUsersController,
    AuthController,
    MeController,
)
from imageuploader.web.api.images import ImagesController
from imageuploader.web.api.media import MediaController, SharedLinkController
from imageuploader.web.api.webhooks import WebhooksController

API_CONTROLLERS: list[type] = [
    AuthController,
    MeController,
    AdminUsersController,
    AdminPlansController,
    AdminSizesController,
    ImagesController,
    MediaController,
    SharedLinkController,
    WebhooksController,
]
