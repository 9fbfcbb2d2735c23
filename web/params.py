"""Request body shapes shared by the page controllers."""

from typing import Annotated, Any

from litestar.enums import RequestEncodingType
from litestar.params import Body

__all__ = ["Form", "Upload"]

#: An HTML form post (CSRF-checked by the middleware).
Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
#: A multipart form with files.
Upload = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
