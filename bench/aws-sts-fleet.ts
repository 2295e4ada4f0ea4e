// 1,000 AWS credential consumers started together, 1 h STS role credentials, 24 simulated hours
// on the fleet bench's virtual clock. Every consumer asks for its credential once a simulated
// minute, all on the same beat (a fleet deployed at once). Compared in the same run:
//   - awsCredentials() handles (jittered refresh ahead of expiry), and
//   - the AWS SDK's own memoization (memoizeIdentityProvider of @smithy/core, which every SDK
//     client wraps around fromTemporaryCredentials: refresh on demand within 5 minutes of expiry).
// Both sides call STS through the real SDK (fromTemporaryCredentials → STSClient → SigV4 → XML
// parsing); only the network is replaced by an in-process STS that answers AssumeRole with
// credentials expiring one virtual hour later and counts calls per virtual second.
import { doesIdentityRequireRefresh, isIdentityExpired, memoizeIdentityProvider } from '@smithy/core';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { awsCredentials } from '../src/aws/awsCredentials.js';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '../src/aws/types.js';
import type { BenchModule } from './run.js';
import { prng } from './prng.js';
import { VirtualClock } from './virtual-clock.js';

const CONSUMERS = 1000;
const HOUR = 3_600_000;
const SIMULATED_MS = 24 * HOUR;
const GET_EVERY_MS = 60_000;
const ROLE = 'arn:aws:iam::123456789012:role/etl-orders';

interface FleetFigures {
  readonly stsCalls: number;
  readonly initialCalls: number;
  readonly peakCallsPerSecond: number;
  readonly expiredServed: number;
  readonly failedGets: number;
  readonly gets: number;
}

/** An STS that answers in process, on the virtual clock, counting AssumeRole calls per second. */
function inProcessSts(clock: VirtualClock, start: number, perSecond: Map<number, number>) {
  let calls = 0;
  const requestHandler = {
    metadata: { handlerProtocol: 'http/1.1' },
    async handle(request: { body?: unknown }) {
      calls += 1;
      const second = Math.floor((clock.now() - start) / 1000);
      perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
      if (!String(request.body ?? '').includes('Action=AssumeRole')) throw new Error('unexpected STS request');
      const expiration = new Date(clock.now() + HOUR).toISOString().replace(/\.\d{3}Z$/, 'Z');
      const xml =
        `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/etl-orders/s</Arn><AssumedRoleId>AROAX:s</AssumedRoleId></AssumedRoleUser>` +
        `<Credentials><AccessKeyId>ASIA${randomBytes(8).toString('hex').toUpperCase()}</AccessKeyId><SecretAccessKey>${randomBytes(30).toString('base64')}</SecretAccessKey><SessionToken>${randomBytes(48).toString('base64')}</SessionToken><Expiration>${expiration}</Expiration></Credentials>` +
        `</AssumeRoleResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleResponse>`;
      return { response: { statusCode: 200, reason: 'OK', headers: { 'content-type': 'text/xml' }, body: Readable.from([Buffer.from(xml)]) } };
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs: () => ({}),
    destroy() {},
  };
  return { requestHandler, calls: () => calls };
}

async function simulate(kind: 'handles' | 'sdk-memoize', seed: number): Promise<FleetFigures> {
  const start = Date.UTC(2026, 0, 1);
  const clock = new VirtualClock(start);
  const random = prng(seed);
  const perSecond = new Map<number, number>();
  const sts = inProcessSts(clock, start, perSecond);
  const source = { accessKeyId: 'AKIAEXAMPLEEXAMPLE00', secretAccessKey: randomBytes(30).toString('base64') };
  const clientConfig = { region: 'eu-west-1', maxAttempts: 1, requestHandler: sts.requestHandler };
  // The SDK reads Date.now() (memoization, request signing); the simulation runs it on virtual time.
  const realNow = Date.now;
  Date.now = () => clock.now();
  const closers: (() => Promise<void>)[] = [];
  try {
    const consumers: AwsCredentialIdentityProvider[] = [];
    for (let i = 0; i < CONSUMERS; i++) {
      if (kind === 'handles') {
        const handle = awsCredentials({ region: 'eu-west-1', maxAttempts: 1, stsClientConfig: { requestHandler: sts.requestHandler }, clock, random, assumeRole: { roleArn: ROLE, sessionName: `consumer-${i}`, source: { static: source } } });
        closers.push(() => handle.close());
        consumers.push(handle.toAwsCredentialProvider());
      } else {
        const provider = fromTemporaryCredentials({ params: { RoleArn: ROLE, RoleSessionName: `consumer-${i}`, DurationSeconds: 3600 }, masterCredentials: source, clientConfig });
        consumers.push(memoizeIdentityProvider(provider, isIdentityExpired, doesIdentityRequireRefresh) as unknown as AwsCredentialIdentityProvider);
      }
    }
    await Promise.all(consumers.map((c) => c()));
    await clock.runUntil(start);
    const initialCalls = perSecond.get(0) ?? 0;
    perSecond.delete(0);

    let gets = 0;
    let expiredServed = 0;
    let failedGets = 0;
    const check = (id: AwsCredentialIdentity) => {
      if (id.expiration !== undefined && id.expiration.getTime() <= clock.now()) expiredServed += 1;
    };
    const tick = () => {
      for (const consumer of consumers) {
        gets += 1;
        consumer().then(check, () => {
          failedGets += 1;
        });
      }
      clock.setTimeout(tick, GET_EVERY_MS);
    };
    clock.setTimeout(tick, GET_EVERY_MS);
    await clock.runUntil(start + SIMULATED_MS);
    return { stsCalls: sts.calls(), initialCalls, peakCallsPerSecond: Math.max(...perSecond.values()), expiredServed, failedGets, gets };
  } finally {
    await Promise.all(closers.map((c) => c()));
    Date.now = realNow;
  }
}

export const awsStsFleet: BenchModule = {
  name: 'aws-sts-fleet',
  description: `${CONSUMERS} consumers of 1 h STS credentials started together, 24 simulated hours: awsCredentials handles vs the AWS SDK's memoize`,
  async run(log) {
    const handles = await simulate('handles', 1);
    const sdk = await simulate('sdk-memoize', 1);
    for (const [name, f] of [['awsCredentials', handles], ['SDK memoize', sdk]] as const) {
      log(`${name.padEnd(14)} STS peak ${String(f.peakCallsPerSecond).padStart(4)} calls/s, ${f.stsCalls} calls (${f.initialCalls} at t=0), ${f.gets} gets, ${f.expiredServed} expired served, ${f.failedGets} failed gets`);
    }
    const ok = handles.expiredServed === 0 && handles.failedGets === 0;
    if (!ok) log('FAIL: the handles served an expired credential or failed a get');
    return {
      // Peak STS load of the handles as a share of the SDK's; the target asks for at least 20× lower.
      ratio: ok ? handles.peakCallsPerSecond / sdk.peakCallsPerSecond : Infinity,
      target: 0.05,
      figures: { handles, sdk, peakReduction: sdk.peakCallsPerSecond / handles.peakCallsPerSecond },
    };
  },
};
