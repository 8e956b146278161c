"""JSON Schema of every spec kind, generated from the pydantic models."""
from __future__ import annotations

from typing import Annotated, Union

from pydantic import Field, TypeAdapter

from .cnn.blocks import BlockUse
from .kinds import available_kinds, model_for


def json_schema() -> dict:
    models = tuple(model_for(k) for k in available_kinds())
    spec = Annotated[Union[models], Field(discriminator="kind")] if len(models) > 1 else models[0]
    schema = TypeAdapter(spec).json_schema(by_alias=True)
    _allow_block_uses(schema)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "archspec spec (version 1)"
    return schema


def _allow_block_uses(schema: dict) -> None:
    """A cnn layer entry may also use a block ({block: NAME, ...}): expansion happens before the model reads
    the layers, so the model itself never sees one; editors should accept it."""
    use = TypeAdapter(BlockUse).json_schema(by_alias=True, ref_template="#/$defs/{model}")
    schema["$defs"]["BlockUse"] = use
    layers = schema["$defs"]["CnnSpec"]["properties"]["layers"]
    layers["items"] = {"anyOf": [layers["items"], {"$ref": "#/$defs/BlockUse"}]}
