import { AuditLog } from './core/audit.js';
import { systemClock, type Clock } from './core/clock.js';
import type { Config } from './core/config.js';
import type { Db } from './core/db.js';
import type { Logger } from './core/log.js';
import { migrate } from './core/migrate.js';
import { CallRecorder } from './catalog/recorder.js';
import { TokenService } from './auth/tokens.js';
import { Keyring } from './secrets/keyring.js';
import { loadMasterKeys } from './secrets/master-key.js';
import { SecretsService } from './secrets/service.js';
import { ReadTracker } from './secrets/read-tracker.js';
import { PortService } from './ports/service.js';
import { CloudflareService } from './cloudflare/service.js';

/** Every domain service, built once per process and shared by all adapters. */
export interface Services {
  config: Config;
  db: Db;
  clock: Clock;
  log: Logger;
  audit: AuditLog;
  calls: CallRecorder;
  tokens: TokenService;
  keyring: Keyring;
  secrets: SecretsService;
  ports: PortService;
  cloudflare: CloudflareService;
  close(): Promise<void>;
}

export interface ServiceOptions {
  config: Config;
  db: Db;
  log: Logger;
  clock?: Clock;
  /** How retries wait (Cloudflare backoff); tests record the waits instead of sitting through them. */
  sleep?: (ms: number) => Promise<void>;
}

/** Migrates the database and wires the services. Closing flushes call records and closes the database. */
export async function openServices(options: ServiceOptions): Promise<Services> {
  const { config, db, log } = options;
  const clock = options.clock ?? systemClock;
  await migrate(db);
  const audit = new AuditLog(db, clock);
  const calls = new CallRecorder(db, log);
  const reads = new ReadTracker(db, log);
  audit.addBufferedSource(reads);
  const keyring = new Keyring(db, await loadMasterKeys(config.home, config.masterKey), clock, config.keyRotateAfter);
  await keyring.init();
  const secrets = new SecretsService({ db, keyring, clock, audit, reads, maxValueBytes: config.secretMaxBytes });
  const ports = new PortService({ db, clock, audit, policy: { defaultBlockStart: config.portBlockStart, blockSize: config.portBlockSize, denyList: config.portDenyList } });
  return {
    config,
    db,
    clock,
    log,
    audit,
    calls,
    keyring,
    tokens: new TokenService(db, clock),
    secrets,
    ports,
    cloudflare: new CloudflareService({ config, db, clock, secrets, ports, sleep: options.sleep }),
    async close() {
      await reads.flush();
      await calls.flush();
      await db.close();
    },
  };
}
