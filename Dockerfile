# The worker image: the package with its pinned spaCy model, nothing fetched at run time.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    STREAMS_DATA_DIR=/var/lib/streams

WORKDIR /app
COPY pyproject.toml README.md ./
COPY streams ./streams
COPY schemas ./schemas
COPY seeds ./seeds
RUN pip install . && useradd --system --home-dir /var/lib/streams --create-home streams
USER streams

EXPOSE 6066
CMD ["streams", "worker"]
