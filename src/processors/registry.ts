/**
 * Card processors are adapters registered by name; the core names none of them.
 * `autoApprove` says whether a user's enrolment in an account of this processor is
 * approved at once (the sandbox) or waits for the operator.
 */
export interface ProcessorInfo {
  name: string
  autoApprove: boolean
}

const registered = new Map<string, ProcessorInfo>([['sandbox', { name: 'sandbox', autoApprove: true }]])

export const processorInfo = (name: string): ProcessorInfo | undefined => registered.get(name)
export const processorNames = (): string[] => [...registered.keys()]
export function registerProcessor(info: ProcessorInfo) {
  registered.set(info.name, info)
}
