# Builds every service of the platform into one image; the executable is chosen at run time
# (docker-compose.yml sets `entrypoint: ["bin/<name>"]`). See docs/deploy.md.

# --- build: all dependencies, TypeScript → dist/, then drop the dev dependencies
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are here
RUN npm ci --no-audit --no-fund --ignore-scripts
# the one install script that must run: the driver patch in patches/ (see docs/operations.md)
COPY patches ./patches
RUN npx patch-package
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY web ./web
# `build` compiles the services and the member web app (vite → dist/web)
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# --- runtime: node, production dependencies, compiled code and the bin/* launchers only
FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=root:root /app/package.json ./
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --chown=root:root bin ./bin
# the code is root-owned and read-only to the process; the services keep nothing on local disk
# when DATABASE_URI is set
USER node
ENV LOG_LEVEL=info
EXPOSE 8080 8081 8088 8090
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD node -e "const a=(process.env.RUN_ADDRESS||'').split(':').pop()||'8080';fetch('http://127.0.0.1:'+a+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["bin/gophermart"]
