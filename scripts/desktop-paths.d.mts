// Types for desktop-paths.mjs (the values live there), so main/ can import it.
export declare const DESKTOP_DIR: string;
export declare const DESKTOP_MAIN_FILE: string;
export declare const DESKTOP_PRELOAD_FILE: string;
