/** The `--memory` mailbox: plain maps, gone when the process ends. */
import type { MailboxItem, MailboxQuota, MailboxStore } from './store.js'

interface Mailbox {
  /** In deposit order: a Map iterates in insertion order. */
  items: Map<string, MailboxItem>
  bytes: number
}

export class MemoryMailboxStore implements MailboxStore {
  readonly #boxes = new Map<string, Mailbox>()
  #lastId = 0

  async deposit(recipient: string, box: Buffer, now: number, expiresAt: number, quota: MailboxQuota): Promise<MailboxItem | 'full'> {
    const mailbox = this.#boxes.get(recipient) ?? { items: new Map(), bytes: 0 }
    this.#dropExpired(mailbox, now)
    if (mailbox.items.size + 1 > quota.maxItems || mailbox.bytes + box.length > quota.maxBytes) return 'full'
    // A copy of its own: a small Buffer is a view into a shared 8 KiB pool slab, which it would keep alive.
    const own = Buffer.allocUnsafeSlow(box.length)
    box.copy(own)
    const item = { id: String(++this.#lastId), box: own, depositedAt: now, expiresAt }
    mailbox.items.set(item.id, item)
    mailbox.bytes += box.length
    this.#boxes.set(recipient, mailbox)
    return item
  }

  async list(recipient: string, now: number, limit: number, after?: string): Promise<MailboxItem[]> {
    const items: MailboxItem[] = []
    const from = after === undefined ? 0 : Number(after)
    for (const item of this.#boxes.get(recipient)?.items.values() ?? []) {
      if (items.length >= limit) break
      if (Number(item.id) > from && item.expiresAt > now) items.push(item)
    }
    return items
  }

  async delete(recipient: string, ids: readonly string[]): Promise<number> {
    const mailbox = this.#boxes.get(recipient)
    if (!mailbox) return 0
    let deleted = 0
    for (const id of ids) {
      const item = mailbox.items.get(id)
      if (!item) continue
      mailbox.items.delete(id)
      mailbox.bytes -= item.box.length
      deleted++
    }
    if (mailbox.items.size === 0) this.#boxes.delete(recipient)
    return deleted
  }

  async sweep(now: number): Promise<void> {
    for (const [recipient, mailbox] of this.#boxes) {
      this.#dropExpired(mailbox, now)
      if (mailbox.items.size === 0) this.#boxes.delete(recipient)
    }
  }

  async close(): Promise<void> {}

  /** Items expire in the order they came (one lifetime for all), so the scan stops at the first live one. */
  #dropExpired(mailbox: Mailbox, now: number): void {
    for (const [id, item] of mailbox.items) {
      if (item.expiresAt > now) break
      mailbox.items.delete(id)
      mailbox.bytes -= item.box.length
    }
  }
}
