// Inside the client namespace: N read requests at once, each from its own UDP socket (a rack of machines
// asking together), then how many got their first DATA packet. Arguments: server, port, file, count.
import { createSocket, type Socket } from 'node:dgram';

const [server, portText, file, countText] = process.argv.slice(2);
const port = Number(portText);
const count = Number(countText);
const rrq = Buffer.concat([Buffer.from([0, 1]), Buffer.from(`${file}\0octet\0`)]);
const sockets: Socket[] = [];
let answered = 0;
await Promise.all(
  Array.from({ length: count }, () => new Promise<void>((resolve) => {
    const socket = createSocket('udp4');
    sockets.push(socket);
    let seen = false;
    socket.on('message', (message) => {
      if (!seen && message.readUInt16BE(0) === 3) {
        seen = true;
        answered++;
      }
    });
    socket.bind(0, () => resolve());
  })),
);
for (const socket of sockets) socket.send(rrq, port, server);
await new Promise((resolve) => setTimeout(resolve, 4000));
for (const socket of sockets) socket.close();
process.stdout.write(`${JSON.stringify({ sent: count, answered })}\n`);
