"""Request body shapes shared by the page controllers."""

from typing import Annotated, Any

from litestar import Request
from litestar.datastructures import FormMultiDict
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body

__all__ = ["POSTED", "Form", "Upload"]

#: An HTML form post (CSRF-checked by the middleware).
Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
#: A multipart form with files.
Upload = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]


async def _posted(request: Request[Any, Any, Any]) -> FormMultiDict:
    return await request.form()


#: The posted HTML form with every value of a repeated name (a multiple choice), for a sync
#: handler: ``dependencies = POSTED`` and a ``posted: FormMultiDict`` parameter.
POSTED = {"posted": Provide(_posted)}
