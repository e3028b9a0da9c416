// A one-shot message carried across a POST -> 303 -> GET in a short-lived cookie (rendered escaped).
import type { Request, Response } from 'express';

const FLASH_COOKIE = 'racklift_flash';

export interface Flash {
  level: 'ok' | 'error';
  text: string;
}

export function setFlash(req: Request, res: Response, flash: Flash): void {
  const value = JSON.stringify({ level: flash.level, text: flash.text.slice(0, 1500) });
  res.cookie(FLASH_COOKIE, value, { httpOnly: true, sameSite: 'strict', secure: req.secure, path: '/', maxAge: 60_000 });
}

export function takeFlash(req: Request, res: Response): Flash | null {
  const raw = (req.cookies as Record<string, string> | undefined)?.[FLASH_COOKIE];
  if (!raw) return null;
  res.clearCookie(FLASH_COOKIE, { path: '/' });
  try {
    const parsed = JSON.parse(raw) as Flash;
    return (parsed.level === 'ok' || parsed.level === 'error') && typeof parsed.text === 'string' ? parsed : null;
  } catch {
    return null;
  }
}
