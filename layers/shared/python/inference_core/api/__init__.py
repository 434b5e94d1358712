"""The FastAPI app: one factory, served by Mangum (control plane) and uvicorn (data plane, local)."""
