// Runs inside the client namespace: a crafted DHCP client on port 68 and a relay on port 67. Reads commands
// as JSON lines on stdin ({ from, to, port, packet }) and prints each datagram it receives as a JSON line.
import { createSocket, type Socket } from 'node:dgram';
import { createInterface } from 'node:readline';
import { clientPacket, describeReply, type ClientPacket } from './packets.ts';

interface Command {
  from: 67 | 68;
  to: string;
  port: number;
  packet: ClientPacket;
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket({ type: 'udp4', reuseAddr: true });
    socket.once('error', reject);
    socket.bind(port, '0.0.0.0', () => {
      socket.setBroadcast(true);
      resolve(socket);
    });
  });
}

const sockets = { 67: await open(67), 68: await open(68) } as const;
for (const [port, socket] of Object.entries(sockets)) {
  socket.on('message', (bytes, remote) => {
    let reply: unknown;
    try {
      reply = describeReply(bytes);
    } catch (error) {
      reply = { error: (error as Error).message };
    }
    process.stdout.write(`${JSON.stringify({ port: Number(port), from: remote.address, reply })}\n`);
  });
}
process.stdout.write('probe ready\n');
for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const command = JSON.parse(line) as Command;
  sockets[command.from].send(clientPacket(command.packet), command.port, command.to);
}
for (const socket of Object.values(sockets)) socket.close();
