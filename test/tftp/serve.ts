// Runs our TFTP service alone, for tests and benchmarks that need it in another network namespace:
//   node --import tsx test/tftp/serve.ts ROOT HOST PORT [tftp.key=value ...]
// Prints {"port":N} when listening, and the counters as JSON when it gets SIGTERM or SIGUSR1.
import { makeContext } from './harness.ts';
import { startTftpService } from '../../server/tftp/service.ts';

const [root, host, port, ...settings] = process.argv.slice(2);
if (!root || !host || !port) {
  console.error('usage: serve.ts ROOT HOST PORT [key=value ...]');
  process.exit(2);
}
const tftp: Record<string, unknown> = { host, port: Number(port) };
for (const setting of settings) {
  const [key, value] = setting.split('=');
  tftp[key!] = value;
}
const ctx = makeContext(root, tftp);
const service = await startTftpService(ctx);
console.log(JSON.stringify({ port: service.port }));
process.on('SIGUSR1', () => console.log(JSON.stringify({ ...service.counters, cache: service.cacheStats() })));
process.on('SIGTERM', () => {
  console.log(JSON.stringify(service.counters));
  void service.close().then(() => process.exit(0));
});
