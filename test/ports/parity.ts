// Parity cases of the ports domain: see test/parity/harness.ts. Allocations go to one
// project on a host per interface (ports are numbered per host, so the three answers carry
// the same port numbers); range changes use a project per interface.
import { addProject } from '../helpers/projects.js';
import { decodedCursor, IFACES, setupActor, type ParityCases, type ParityContext } from '../parity/harness.js';

/** The ports cases' project; on its own hosts, so nothing listens on its allocations. */
export async function portsProject(ctx: ParityContext): Promise<void> {
  await addProject(ctx.daemon.services, setupActor.actor, { name: 'parity-ports', range: { start: 29100, end: 29199 } });
}

export const portsParity: ParityCases = (ctx) => ({
  set_port_range: {
    async input(via) {
      const start = 30000 + IFACES.indexOf(via) * 1000;
      await addProject(ctx.daemon.services, setupActor.actor, { name: `pz-via-${via}`, range: { start, end: start + 99 } });
      return { project: `pz-via-${via}`, size: 250 };
    },
    // Each project starts elsewhere; the resize keeps its start and gives it 250 ports.
    normalise: (o) => ({ ...o, range: `${Number(o.end) - Number(o.start) + 1} ports`, start: '<start>', end: '<end>' }),
  },
  get_port: {
    setup: () => portsProject(ctx),
    input: (via) => ({ project: 'parity-ports', service: 'api', host: `via-${via}` }),
  },
  allocate_port: {
    setup: () => portsProject(ctx),
    input: (via) => ({ project: 'parity-ports', service: 'web', host: `via-${via}`, protocol: 'tcp', hostname: `web.via-${via}.example.com`, description: 'site', command: 'node web.js' }),
  },
  list_ports: {
    async input(via) {
      await portsProject(ctx);
      for (const service of ['one', 'two']) await ctx.daemon.services.ports.allocate(setupActor, { project: 'parity-ports', service, host: `list-via-${via}` });
      return { project: 'parity-ports', host: `list-via-${via}`, limit: 1 };
    },
    // The cursor holds the host, so holds the interface's name: compare it decoded.
    normalise: decodedCursor('list_ports'),
  },
  release_port: {
    async input(via) {
      await portsProject(ctx);
      await ctx.daemon.services.ports.allocate(setupActor, { project: 'parity-ports', service: 'temp', host: `via-${via}` });
      return { project: 'parity-ports', service: 'temp', host: `via-${via}` };
    },
  },
  get_port_summary: {
    setup: () => portsProject(ctx),
    input: () => ({ project: 'parity-ports' }),
  },
  check_port: {
    setup: () => portsProject(ctx),
    input: () => ({ port: 29199, host: 'via-rest' }),
  },
  audit_ports: {
    setup: () => portsProject(ctx),
    input: () => ({ project: 'parity-ports' }),
  },
  import_ports: {
    setup: () => portsProject(ctx),
    input: () => ({ project: 'parity-ports' }),
  },
});
