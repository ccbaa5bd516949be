# drainplane's images, built from the repository root:
#   docker build -t drainplane .                                        the control plane (drainplane serve)
#   docker build --target drainplane-envoy -t drainplane-envoy .        Envoy with `drainplane run` as its
#                                                                       entrypoint (deploy/kubernetes)
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY bin bin
COPY src src
COPY ui ui
COPY scripts scripts
COPY envoy envoy
# npm ci builds dist/ (the prepare script); dev dependencies are dropped afterwards. /runtime
# holds what both images run.
RUN npm ci --no-audit --no-fund && npm prune --omit=dev \
  && mkdir /runtime && cp -r package.json node_modules dist bin .envoy-api envoy /runtime/

# Envoy with drainplane as its entrypoint: `drainplane run` serves Envoy its listeners and drains
# them on SIGTERM.
FROM envoyproxy/envoy:v1.34-latest AS drainplane-envoy
# Node.js for drainplane (glibc build, as the Envoy image's).
COPY --from=build /usr/local/bin/node /usr/local/bin/node
WORKDIR /opt/drainplane
COPY --from=build /runtime ./
RUN ln -s /opt/drainplane/bin/drainplane.js /usr/local/bin/drainplane
ENTRYPOINT ["drainplane", "run", "--config", "/etc/drainplane/drainplane.yaml", "--"]
CMD ["envoy", "-c", "/etc/envoy/bootstrap.yaml"]

# The control plane, the default target (last).
FROM node:20-bookworm-slim AS drainplane
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /runtime ./
USER node
ENTRYPOINT ["node", "/app/bin/drainplane.js"]
CMD ["serve", "--config", "/app/envoy/drainplane.yaml", "--state-dir", "/tmp/drainplane"]
