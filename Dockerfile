# FtpGateway container image: a self-contained gateway on the smallest runtime that fits (the .NET runtime-deps
# image, chiseled: no shell, no package manager), running as the non-root user 1654.
#   podman build -t ftpgateway .        (or docker build)
#   podman run -p 2121:2121 -p 8080:8080 -p 50000-50019:50000-50019 -e Ftp__PassivePortRange=50000-50019 \
#     -e Ftp__PublicAddress=<address clients reach> -e Users__0__Name=cam01 -e Users__0__PasswordHash='...' ftpgateway
# The base images are build arguments, so that a registry mirror or locally made bases can stand in for them
# (the test suite builds this file with bases made from Debian packages: see tests/.../ContainerImageTests.cs).
ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0
ARG RUNTIME_IMAGE=mcr.microsoft.com/dotnet/runtime-deps:10.0-noble-chiseled

FROM ${SDK_IMAGE} AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/ src/
# Self-contained: the runtime comes with the application, so the final image needs only runtime-deps. The
# architecture follows the build platform (TARGETARCH amd64 or arm64).
ARG TARGETARCH=amd64
RUN arch="$(echo "$TARGETARCH" | sed 's/amd64/x64/')" \
 && dotnet publish src/FtpGateway/FtpGateway.csproj -c Release -r "linux-$arch" --self-contained -o /app \
 && mkdir -p /data

FROM ${RUNTIME_IMAGE}
ARG VERSION=dev
LABEL org.opencontainers.image.title="FtpGateway" \
      org.opencontainers.image.description="An FTP server whose files live in S3, Azure Blob Storage or on a volume" \
      org.opencontainers.image.version="${VERSION}"
WORKDIR /app
COPY --from=build /app ./
# Local-disk storage lives in /data (mount a volume); cloud providers need none. Owned by the app user.
COPY --from=build --chown=1654:1654 /data /data
# Chiseled runtime-deps carries no ICU: the gateway is built with invariant globalization (Directory.Build.props).
# Two malloc arenas: with glibc's default (eight per core) the gateway held about 11 MiB more (README, "Benchmark").
# The runtime's threads make their arenas before the gateway's code runs, so the cap must be in the environment.
ENV Storage__FileSystem__Root=/data \
    Ftp__Port=2121 \
    DOTNET_gcServer=0 \
    MALLOC_ARENA_MAX=2
USER 1654
EXPOSE 2121 8080
ENTRYPOINT ["/app/FtpGateway"]
