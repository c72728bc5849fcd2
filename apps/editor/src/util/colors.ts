import type { SocketType } from '@diffedit/core';

/** One colour per socket type (sockets, edges, legend); readable on the dark canvas. */
export const SOCKET_COLORS: Record<SocketType, string> = {
  IMAGE: '#4fc3f7',
  MASK: '#e0e0e0',
  LATENTS: '#ff8a65',
  INVERTED_LATENTS: '#f06292',
  ENCODED_IMAGE: '#ffab91',
  EMBEDDING: '#ba68c8',
  TEXT: '#81c784',
  TEXT_LIST: '#aed581',
  NUMBER: '#ffd54f',
  INT: '#ffb74d',
  BOOL: '#90a4ae',
  DIFFUSION_MODEL: '#7986cb',
  T5_MODEL: '#9575cd',
  BLIP_MODEL: '#4db6ac',
  ANY: '#bdbdbd',
};

export function socketColor(type: string | undefined): string {
  return (type && SOCKET_COLORS[type as SocketType]) || '#9e9e9e';
}
