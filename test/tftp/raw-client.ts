// A scriptable TFTP client over a plain dgram socket, for the cases real clients cannot be made to do:
// abort after tsize, never acknowledge, acknowledge twice, send junk.
import { createSocket, type Socket } from 'node:dgram';
import { decodePacket, encodeAck, encodeRequest, type Packet } from '../../server/tftp/packet.ts';

export interface Received {
  packet: Packet;
  from: number;
}

export class RawClient {
  private readonly queue: Received[] = [];
  private waiter: (() => void) | null = null;
  readonly socket: Socket;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('message', (message, rinfo) => {
      const packet = decodePacket(message);
      if (!packet) throw new Error(`server sent an undecodable packet: ${message.toString('hex')}`);
      this.queue.push({ packet, from: rinfo.port });
      this.waiter?.();
    });
  }

  static async open(): Promise<RawClient> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new RawClient(socket);
  }

  send(port: number, message: Buffer): void {
    this.socket.send(message, port, '127.0.0.1');
  }

  request(serverPort: number, filename: string, options: [string, string][] = [], mode = 'octet'): void {
    this.send(serverPort, encodeRequest('RRQ', filename, mode, options));
  }

  ack(port: number, block: number): void {
    this.send(port, encodeAck(block));
  }

  /** The next packet, or null if none arrives within `ms`. */
  async next(ms = 3000): Promise<Received | null> {
    const deadline = Date.now() + ms;
    while (this.queue.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) return null;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = null;
    }
    return this.queue.shift()!;
  }

  /** Everything that arrives until `ms` of silence. */
  async drain(ms = 300): Promise<Received[]> {
    const all: Received[] = [];
    for (let got = await this.next(ms); got; got = await this.next(ms)) all.push(got);
    return all;
  }

  close(): void {
    this.socket.close();
  }
}
