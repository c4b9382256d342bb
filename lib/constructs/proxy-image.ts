/**
 * The container image of the XKS proxy and the HSM agent (lambdas/xks-proxy/Dockerfile): one image,
 * two entry points chosen by CMD. Built by `cdk deploy` (Docker needed then); `cdk synth` only
 * stages the build context, so it works without a Docker engine.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { HsmType } from '../../lambdas/contract/hsm';
import type { LambdaArchitecture } from '../parameters';
import { PROJECT_ROOT } from '../private/project';

/** The Dockerfile, relative to the build context (the repository root). */
export const PROXY_DOCKERFILE = 'lambdas/xks-proxy/Dockerfile';
/** Entry files the image bundles (relative to the repository root) and the CMD that selects each. */
export const IMAGE_ENTRIES = {
  xksProxy: { file: 'lambdas/xks-proxy/entry/lambda.mjs', cmd: ['xks-proxy.handler'] },
  hsmAgent: { file: 'lambdas/hsm-agent/lambda.mjs', cmd: ['hsm-agent.handler'] },
} as const;

/**
 * The build context holds only what the Dockerfile reads (an allow-list, as in .dockerignore):
 * the lock file it installs from and the runtime code. CDK code, tests and local state stay out,
 * so that changing them does not change the image.
 */
const CONTEXT_EXCLUDES = ['*', '!package.json', '!package-lock.json', '!tsconfig.json', '!lambdas', 'lambdas/**/*.test.ts'];

export interface ProxyImageProps {
  /** Selects the vendor PKCS#11 client installed in the image (build arg HSM_CLIENT). */
  readonly hsmType: HsmType;
  /** Further build args of the vendor client (see the Dockerfile's header). @default {} */
  readonly buildArgs?: Readonly<Record<string, string>>;
  /** @default 'x86_64' */
  readonly architecture?: LambdaArchitecture;
  /** Build context. @default - the repository root */
  readonly contextDirectory?: string;
}

/** The image, for one of its two entry points. */
export class ProxyImage {
  public readonly architecture: lambda.Architecture;

  constructor(private readonly props: ProxyImageProps) {
    this.architecture = props.architecture === 'arm64' ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64;
    const dockerfile = path.join(this.contextDirectory, PROXY_DOCKERFILE);
    if (!fs.existsSync(dockerfile)) throw new Error(`ProxyImage: ${dockerfile} not found; contextDirectory must be the repository root.`);
    if (props.buildArgs && 'HSM_CLIENT' in props.buildArgs) {
      throw new Error('ProxyImage: set the HSM client with `hsmType`, not with buildArgs.HSM_CLIENT.');
    }
  }

  private get contextDirectory(): string {
    return this.props.contextDirectory ?? PROJECT_ROOT;
  }

  /** Code for the function that runs `entry`. Both codes share one image asset (same hash). */
  public code(entry: keyof typeof IMAGE_ENTRIES): lambda.DockerImageCode {
    return lambda.DockerImageCode.fromImageAsset(this.contextDirectory, {
      file: PROXY_DOCKERFILE,
      cmd: [...IMAGE_ENTRIES[entry].cmd],
      buildArgs: { HSM_CLIENT: this.props.hsmType, ...this.props.buildArgs },
      platform: this.architecture === lambda.Architecture.ARM_64 ? ecrAssets.Platform.LINUX_ARM64 : ecrAssets.Platform.LINUX_AMD64,
      exclude: CONTEXT_EXCLUDES,
    });
  }
}
