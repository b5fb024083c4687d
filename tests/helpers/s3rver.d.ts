// s3rver ships no types; the part the tests use.
declare module "s3rver" {
  export default class S3rver {
    constructor(options: Record<string, unknown>);
    run(): Promise<unknown>;
    close(): Promise<void>;
    on(event: "event", fn: (e: { Records: { eventName: string; s3: { object: { key: string } } }[] }) => void): this;
  }
}
