// Receive buffers of the listening UDP sockets (DHCP, TFTP): room for a rack powering on at once (~1,000
// datagrams) without the kernel dropping requests, and without queueing seconds of stale ones. The kernel caps
// the size at net.core.rmem_max; what the socket got is returned for the start-up log.
import type { Socket } from 'node:dgram';

export const RECEIVE_BUFFER_BYTES = 1024 * 1024;

export function enlargeReceiveBuffer(socket: Socket): number {
  try {
    socket.setRecvBufferSize(RECEIVE_BUFFER_BYTES);
  } catch {
    // Refused (a sandbox): the default still works, only bursts may drop.
  }
  return socket.getRecvBufferSize();
}
