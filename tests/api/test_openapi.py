import json
import re

from api.app import create_app
from api.schemas.ricloud import CreateTask
from api.schemas.taskhook import SubmitTask
from api.schemas.url_groups import CreateGroup
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


def test_every_operation_is_tagged_and_documents_its_dialects_errors() -> None:
    document = create_app(Settings()).openapi()
    described = {tag["name"] for tag in document["tags"]}
    shapes = {"/tasks": "RicloudError", "/results": "RicloudError"}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert operation["tags"] and set(operation["tags"]) <= described, (method, path)
            wanted = next((s for p, s in shapes.items() if path.startswith(p)), None)
            if path.startswith("/api/projects"):
                wanted = "ProblemDetails"
            for status in ("401", "404", "422"):
                content = operation["responses"][status]["content"]
                refs = json.dumps(content)
                if wanted == "ProblemDetails":  # its routes give examples of their own
                    assert "application/problem+json" in content, (method, path, status)
                elif wanted is not None:
                    assert f"#/components/schemas/{wanted}" in refs, (method, path, status)
                elif not path.startswith("/api/v2/system-tasks"):
                    assert "#/components/schemas/TaskhookError" in refs, (method, path, status)


def test_the_seed_examples_are_valid_bodies() -> None:
    document = create_app(Settings()).openapi()
    schemas = document["components"]["schemas"]
    for model in (SubmitTask, CreateGroup, CreateTask):
        examples = schemas[model.__name__]["examples"]
        assert examples
        for example in examples:
            model.model_validate(example)


def test_reads_document_no_body_or_conflict_errors() -> None:
    document = create_app(Settings()).openapi()
    get = document["paths"]["/v1/tasks/{task_id}"]["get"]["responses"]
    assert "413" not in get and "409" not in get and "404" in get
    delete = document["paths"]["/v1/tasks/{task_id}"]["delete"]["responses"]
    assert "409" in delete
