import cliProgress from 'cli-progress';

import type { RunEvent } from '@diffedit/core';

export interface TextSink {
  write(text: string): unknown;
}

/**
 * Shows a run on stderr: a progress bar per node on a terminal, one line per node event otherwise (logs,
 * CI), so the output stays readable when redirected.
 */
export class RunProgress {
  private readonly multibar: cliProgress.MultiBar | undefined;
  private readonly bars = new Map<string, cliProgress.SingleBar>();

  constructor(
    private readonly stream: TextSink & NodeJS.WritableStream,
    interactive: boolean,
  ) {
    this.multibar = interactive
      ? new cliProgress.MultiBar(
          {
            stream,
            format: ' {status} {node} [{bar}] {value}/{total} {info}',
            hideCursor: true,
            clearOnComplete: false,
            stopOnComplete: false,
            barsize: 24,
          },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
  }

  readonly onEvent = (event: RunEvent): void => {
    switch (event.type) {
      case 'run:start':
        this.line(
          `▶ running ${event.planned.length - event.cached.length} node(s), ${event.cached.length} cached`,
        );
        break;
      case 'node:cached':
        this.bar(event.nodeId, event.nodeType, 1, 1, '•', 'cached');
        break;
      case 'node:start':
        this.bar(event.nodeId, event.nodeType, 0, 1, '…', '');
        break;
      case 'node:progress':
        this.bar(event.nodeId, event.nodeType, event.step, event.total, '…', '', false);
        break;
      case 'node:log':
        if (event.level === 'warn' || event.level === 'error')
          this.line(`  ${event.level}: ${event.nodeId}: ${event.message}`);
        break;
      case 'node:warning':
        this.line(
          `  ⚠ warning: ${event.nodeId} (${event.nodeType})${event.field ? ` › ${event.field}` : ''}: ${event.message}`,
        );
        break;
      case 'node:done': {
        // Text results (a caption, sampled prompts) are what a CLI user wants to read; tensors are not.
        const texts = Object.entries(event.outputs)
          .filter(([, summary]) => summary.startsWith('"') || summary.startsWith('["'))
          .map(([name, summary]) => ` ${name}=${summary}`);
        this.bar(
          event.nodeId,
          event.nodeType,
          1,
          1,
          '✓',
          `${event.ms.toFixed(1)} ms${texts.join('')}`,
          true,
          true,
        );
        break;
      }
      case 'node:error':
        this.bar(event.nodeId, event.nodeType, 0, 1, '✗', event.error.message, true, true);
        break;
      case 'run:done':
      case 'run:failed':
      case 'run:cancelled':
        // stop() alone drops lines logged since the last redraw (a fast run's whole log): redraw first.
        this.multibar?.update();
        this.multibar?.stop();
        break;
    }
  };

  private bar(
    nodeId: string,
    nodeType: string,
    value: number,
    total: number,
    status: string,
    info: string,
    announce = true,
    finished = false,
  ): void {
    const node = `${nodeId} (${nodeType})`;
    if (!this.multibar) {
      if (announce && (finished || status !== '…')) this.line(` ${status} ${node}${info ? ` ${info}` : ''}`);
      return;
    }
    let bar = this.bars.get(nodeId);
    if (!bar) {
      bar = this.multibar.create(total, value, { status, node, info });
      this.bars.set(nodeId, bar);
    }
    if (finished && value === 1 && total === 1) {
      // Fill the bar to whatever total the node reported.
      const reached = bar.getTotal();
      bar.update(reached, { status, node, info });
      return;
    }
    bar.setTotal(total);
    bar.update(value, { status, node, info });
  }

  private line(text: string): void {
    if (this.multibar) this.multibar.log(`${text}\n`);
    else this.stream.write(`${text}\n`);
  }
}
