"""Control-plane Lambda entry point: the FastAPI app behind API Gateway REST, through Mangum.

Importing this module builds the app but loads no provider SDK and reads no secret: providers are
created on first use (see `inference_core.providers.create_provider`).
"""

from mangum import Mangum

from inference_core.api.app import create_app

handler = Mangum(create_app(), lifespan="off", api_gateway_base_path=None)
