// Interlock failures shown as banners in the app shell. They outlive the panel that raised them
// (navigating between screens keeps them) and go away only when dismissed.

export interface InterlockError {
  id: number;
  serviceName: string;
  message: string;
}

let nextId = 1;
const list = $state<InterlockError[]>([]);

export const interlockErrors = {
  get list(): readonly InterlockError[] {
    return list;
  },
  push(serviceName: string, message: string): void {
    list.push({ id: nextId++, serviceName, message });
  },
  dismiss(id: number): void {
    const index = list.findIndex((e) => e.id === id);
    if (index >= 0) list.splice(index, 1);
  },
  clear(): void {
    list.length = 0;
  },
};
