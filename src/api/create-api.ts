import { BERTH_VERSION, type Engine } from '../engine/index.ts';
import { Router } from './router.ts';
import { ApiServer, type ApiLogger } from './server.ts';
import type { HiddenPath } from './public-message.ts';
import { archiveRoutes } from './routes/archive.ts';
import { buildRoutes } from './routes/build.ts';
import { pluginRoutes, swarmRoutes } from './routes/cluster-absent.ts';
import { containerRoutes } from './routes/containers.ts';
import { execRoutes } from './routes/exec.ts';
import { imageRoutes } from './routes/images.ts';
import { networkRoutes } from './routes/networks.ts';
import { statsRoutes } from './routes/stats.ts';
import { systemDfRoutes } from './routes/system-df.ts';
import { systemRoutes } from './routes/system.ts';
import { volumeRoutes } from './routes/volumes.ts';

/** The Engine API's routes over an engine: every handler parses, calls the engine once and renders. */
export function createRouter(engine: Engine): Router {
  return new Router()
    .add(systemRoutes({ system: engine.system, events: engine.events }))
    .add(containerRoutes(engine.containers))
    .add(execRoutes(engine.execs))
    .add(imageRoutes(engine.images))
    .add(buildRoutes(engine.builds))
    .add(networkRoutes(engine.networks))
    .add(systemDfRoutes(engine.system))
    .add(statsRoutes(engine.containers))
    .add(volumeRoutes(engine.volumes))
    .add(archiveRoutes(engine.containers))
    .add(swarmRoutes())
    .add(pluginRoutes());
}

/** berthd's API server over an engine; the caller listens and closes it. */
export function createApiServer(engine: Engine, opts: { log: ApiLogger; hiddenPaths?: readonly HiddenPath[] }): ApiServer {
  return new ApiServer({ router: createRouter(engine), log: opts.log, serverVersion: BERTH_VERSION, ...(opts.hiddenPaths ? { hiddenPaths: opts.hiddenPaths } : {}) });
}
