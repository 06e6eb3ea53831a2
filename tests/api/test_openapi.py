import json
import re

from api.app import create_app
from tasklane.config import Settings


def test_openapi_documents_the_submit_body_with_resolvable_refs() -> None:
    document = create_app(Settings()).openapi()
    text = json.dumps(document)
    refs = set(re.findall(r"#/components/schemas/(\w+)", text))
    assert refs <= set(document["components"]["schemas"])
    body = document["paths"]["/v1/tasks"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/SubmitTask"}
    assert "target" in document["components"]["schemas"]["SubmitTask"]["required"]
    assert "$defs" not in text
