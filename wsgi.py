from queue_service import create_app

app = create_app()
