# FtpGateway container image: the gateway on the .NET runtime, running as a non-root user.
#   docker build -t ftpgateway .
#   docker run -p 2121:2121 -p 8080:8080 -p 50000-50019:50000-50019 -e Ftp__PassivePortRange=50000-50019 \
#     -e Ftp__PublicAddress=<address clients reach> -e Users__0__Name=cam01 -e Users__0__PasswordHash='...' ftpgateway
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/ src/
RUN dotnet publish src/FtpGateway/FtpGateway.csproj -c Release -o /app --no-self-contained

# The ASP.NET Core runtime: the management endpoint (/healthz, /readyz, /metrics) runs on Kestrel.
FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app ./
# Local-disk storage lives in /data (mount a volume); cloud providers need none.
ENV Storage__FileSystem__Root=/data \
    Ftp__Port=2121 \
    DOTNET_gcServer=0
RUN mkdir -p /data && chown "$APP_UID" /data
VOLUME /data
USER $APP_UID
EXPOSE 2121 8080
ENTRYPOINT ["dotnet", "FtpGateway.dll"]
