import type { OrderStatus } from '../../lib/ipc';

export const ORDER_STATUSES: readonly OrderStatus[] = ['open', 'in_progress', 'completed', 'cancelled'];

export const ORDER_STATUS_LABELS: Record<OrderStatus, string> = {
  open: 'Open',
  in_progress: 'In progress',
  completed: 'Completed',
  cancelled: 'Cancelled',
};
