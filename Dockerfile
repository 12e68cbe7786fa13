# Build and run promo-api. Postgres comes from DATABASE_URL (see docker-compose.yml).
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p promo-api

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 promo
COPY --from=build /src/target/release/promo-api /usr/local/bin/promo-api
USER promo
ENV LISTEN_ADDR=0.0.0.0:8080 LOG_FORMAT=json
EXPOSE 8080
CMD ["promo-api"]
