"""For Piccolo's CLI run from the repository (`piccolo migrations new ...`): the package's
own configuration module, `imageuploader.piccolo_conf`."""

from imageuploader.piccolo_conf import APP_REGISTRY, __getattr__

__all__ = ["APP_REGISTRY", "__getattr__"]
