import { useState } from 'react';

import type { ImageSource } from '../../util/results.js';
import { FileImage } from '../FileImage.js';

/** An image, or one tile of a grid image, filling its box. */
export function Picture({
  source,
  alt,
  style,
  className,
}: {
  source: ImageSource;
  alt: string;
  style?: React.CSSProperties;
  className?: string;
}): React.JSX.Element {
  const [ratio, setRatio] = useState<number>();
  const tile = source.tile ?? { index: 0, cols: 1, rows: 1 };
  const col = tile.index % tile.cols;
  const row = Math.floor(tile.index / tile.cols);
  return (
    <div className={`picture ${className ?? ''}`} style={{ aspectRatio: ratio, ...style }}>
      <FileImage
        src={source.url}
        alt={alt}
        style={{
          width: `${tile.cols * 100}%`,
          transform: `translate(${(-100 * col) / tile.cols}%, ${(-100 * row) / tile.rows}%)`,
        }}
        onLoad={(e) => {
          const img = e.currentTarget;
          setRatio(img.naturalWidth / tile.cols / (img.naturalHeight / tile.rows));
        }}
      />
    </div>
  );
}

/** The mask over the input image, with an opacity slider. */
export function MaskOverlay({ image, mask }: { image: ImageSource; mask: ImageSource }): React.JSX.Element {
  const [opacity, setOpacity] = useState(0.5);
  return (
    <figure className="compare" data-view="mask-overlay">
      <div className="stack">
        <Picture source={image} alt="input image" />
        <Picture source={mask} alt="mask" className="overlay" style={{ opacity, mixBlendMode: 'screen' }} />
      </div>
      <figcaption>
        <label>
          Mask opacity
          <input
            type="range"
            min={0}
            max={1}
            step={0.05}
            value={opacity}
            onChange={(e) => setOpacity(Number(e.target.value))}
          />
        </label>
      </figcaption>
    </figure>
  );
}

/** Before/after: the edited image revealed over the original right of the slider. */
export function BeforeAfter({
  before,
  after,
}: {
  before: ImageSource;
  after: ImageSource;
}): React.JSX.Element {
  const [split, setSplit] = useState(50);
  return (
    <figure className="compare" data-view="before-after">
      <div className="stack">
        <Picture source={before} alt="before" />
        <Picture
          source={after}
          alt="after"
          className="overlay"
          style={{ clipPath: `inset(0 0 0 ${split}%)` }}
        />
        <div className="split-line" style={{ left: `${split}%` }} />
      </div>
      <figcaption>
        <label>
          Before | after
          <input
            type="range"
            min={0}
            max={100}
            value={split}
            onChange={(e) => setSplit(Number(e.target.value))}
          />
        </label>
      </figcaption>
    </figure>
  );
}
