# One image for every part: `vigil broker`, `vigil agent`, `vigil sim`, `vigil demo site`.
# Production runs the compiled JavaScript, never a TypeScript loader.
FROM node:20-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 builds its native addon when no prebuilt binary matches.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production VIGIL_DATA_DIR=/var/lib/vigil
# openssl: `vigil sim` makes the self-signed certificate of an https device with it;
# postgresql-client: pg_dump and pg_restore (15, as the postgres image) for vigil backup/restore.
RUN apt-get update && apt-get install -y --no-install-recommends openssl postgresql-client \
  && rm -rf /var/lib/apt/lists/*
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir -p /var/lib/vigil && chown node:node /var/lib/vigil
USER node
ENTRYPOINT ["node", "dist/cli/vigil.js"]
