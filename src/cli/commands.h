/* The CLI's commands; each takes the arguments after its own name. */
#ifndef GR_CLI_COMMANDS_H
#define GR_CLI_COMMANDS_H

int gr_cmd_gen(int argc, char **argv);
int gr_cmd_split(int argc, char **argv);
int gr_cmd_als(int argc, char **argv);
int gr_cmd_als_tune(int argc, char **argv);   /* als tune */
int gr_cmd_als_export(int argc, char **argv); /* als export */
int gr_cmd_demo(int argc, char **argv);
int gr_cmd_stats(int argc, char **argv);
int gr_cmd_describe(int argc, char **argv);
int gr_cmd_kmeans(int argc, char **argv);
int gr_cmd_leads(int argc, char **argv);
int gr_cmd_leads_tune(int argc, char **argv);   /* leads tune */
int gr_cmd_leads_export(int argc, char **argv); /* leads export */
int gr_cmd_logreg(int argc, char **argv);

#endif
