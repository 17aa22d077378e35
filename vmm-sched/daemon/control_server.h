/* The control connections: requests read, replies written, none ever blocking the loop. */
#ifndef VS_CONTROL_SERVER_H
#define VS_CONTROL_SERVER_H

struct vs_daemon;
struct json_object;

/* Serves what is ready without waiting on any client. */
void control_on_ready(struct vs_daemon *d);
/* From the loop's timer: drops connections past their deadline. */
void control_on_tick(struct vs_daemon *d);
/* Closes every connection and the socket (removed). */
void control_close(struct vs_daemon *d);
/* The server's connections and what it dropped or refused, for status. */
struct json_object *control_status_json(struct vs_daemon *d);

#endif
